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

// ErrHistoryLost reports that the stored resume token is no longer in the
// change stream history (the oplog rolled past it). A change source wraps
// the server's answer in it; main maps it to exit code 1. The watcher never
// restarts from "now" by itself.
var ErrHistoryLost = errors.New("change stream history lost: the stored resume token is no longer in the oplog")

// ErrProjectExists marks an event whose project exists under the other
// form of its id (an ObjectID and its 24-hex string twin): nothing is
// written; a person decides.
var ErrProjectExists = errors.New("a live project has the same id in its other form")

// ErrInvalidValue marks a copied value Firestore cannot hold (regex,
// JavaScript, MinKey, DBPointer, …): the event is set aside, the stream
// goes on.
var ErrInvalidValue = errors.New("a copied field holds a value Firestore cannot hold")

// ErrTermEnded marks a write refused because the leader lease term that
// allowed it ended (the lease was lost, released, or is past its
// deadline): the event is left unfinished and replayed by the next leader,
// never dead-lettered.
var ErrTermEnded = errors.New("the leader lease term ended: this instance may no longer write")
