package source

import "errors"

// ErrUndecodableEvent marks a change stream document the Source cannot read
// into a Change. It stops the daemon: skipping it would lose an event
// silently, and the next ones may be just as unreadable.
var ErrUndecodableEvent = errors.New("undecodable change stream event")

// ErrStreamClosed means the server closed the change stream cursor (after an
// invalidate, for example): it must be reopened from a stored position.
var ErrStreamClosed = errors.New("change stream closed by the server")
