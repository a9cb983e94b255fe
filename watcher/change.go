package watcher

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Change is one raw change event of the projects collection, as the Source
// reads it from the change stream (after the server-side $match/$project).
type Change struct {
	Token       bson.Raw       // the event's _id: its resume token
	ClusterTime bson.Timestamp // clusterTime
	WallTime    time.Time      // wallTime (zero when the server sends none)
	Op          string         // operationType
	DocumentKey bson.Raw       // documentKey ({_id: ...})
	// UpdatedFields, RemovedFields and DisambiguatedPaths come from
	// updateDescription (update events only).
	UpdatedFields      bson.Raw
	RemovedFields      []string
	DisambiguatedPaths bson.Raw
	FullDocument       bson.Raw // replace events only
}

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

// Event is what Derive makes of a Change.
type Event struct {
	Kind      Kind
	ProjectID string
	// Set maps a configured source field path (as written in sync.fields) to
	// its new value; Unset lists source paths that were removed.
	Set   map[string]any
	Unset []string
	// Lookup lists source paths whose new value must be read from MongoDB by
	// _id (a descendant of the path was updated). Filled in before apply.
	Lookup []string

	Token       bson.Raw
	ClusterTime bson.Timestamp
	WallTime    time.Time
}
