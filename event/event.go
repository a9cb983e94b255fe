package event

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Kind is the kind of a derived event.
type Kind int

const (
	// ProjectDeleted: every asset of the project is deleted (or archived).
	ProjectDeleted Kind = iota + 1
	// ProjectUpdated: the copies of changed project fields are rewritten.
	ProjectUpdated
)

func (k Kind) String() string {
	switch k {
	case ProjectDeleted:
		return "ProjectDeleted"
	case ProjectUpdated:
		return "ProjectUpdated"
	}
	return "unknown"
}

// Event is what the watcher derives from a Change.
type Event struct {
	Kind      Kind
	ProjectID string
	// DocumentID is the project's raw _id (documentKey._id), kept so that a
	// lookup by _id uses the original BSON type (ObjectID or string).
	DocumentID bson.RawValue
	// Op is the operationType the event was derived from (for logs).
	Op string
	// Set maps a configured source field path (as written in sync.fields) to
	// its new value; Unset lists source paths that were removed. Values are
	// plain Go values (see bsonvalue.Plain): nil, bool, int32, int64,
	// float64, string, []byte, time.Time, map[string]any, []any.
	Set   map[string]any
	Unset []string
	// Lookup lists source paths whose new value must be read from MongoDB by
	// _id (a descendant of the path was updated). Filled in before apply
	// (the resolver moves them to Set/Unset and empties Lookup).
	Lookup []string
	// Unresolved lists Lookup paths the resolver left out because the
	// project no longer exists (a later delete event of the stream handles
	// it).
	Unresolved []string

	// CreatedBy, when set, limits a ProjectDeleted to the documents
	// Firestore created at or before it (and their subtrees): the project's
	// id exists again, and the assets of the new project stay.
	CreatedBy time.Time

	Token       bson.Raw
	ClusterTime bson.Timestamp
	WallTime    time.Time
}

// Time is the event's time in MongoDB: its wall time (millisecond
// precision) when the server sent one, else its cluster time (seconds);
// zero when it has neither.
func (ev *Event) Time() time.Time {
	if !ev.WallTime.IsZero() {
		return ev.WallTime
	}
	if ev.ClusterTime.T != 0 {
		return time.Unix(int64(ev.ClusterTime.T), 0).UTC()
	}
	return time.Time{}
}
