package event

import "errors"

// ErrInvalidID marks a change whose documentKey._id cannot name a project:
// missing, empty, or of a type other than ObjectID or string. The event
// itself is bad (dead-letter it); the stream is fine.
var ErrInvalidID = errors.New("invalid project _id")

// ErrEmptyProjectID is returned, before any query, for an empty project id.
var ErrEmptyProjectID = errors.New("empty project id")

// ErrSafetyLimit marks an event that would touch more documents than
// safety.maxDocsPerEvent: nothing was written; a human decides.
var ErrSafetyLimit = errors.New("safety limit: the event would touch more documents than safety.maxDocsPerEvent")
