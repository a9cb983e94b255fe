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
	// TruncatedArrays is updateDescription.truncatedArrays: an array of
	// {field, newSize} (update events only; nil when absent).
	TruncatedArrays bson.Raw
	// Namespace is ns (db and coll); To is the target of a rename.
	Namespace Namespace
	To        Namespace
}

// Namespace is a database and collection name pair (ns, to).
type Namespace struct {
	DB   string
	Coll string
}

// String renders the namespace as "db.coll" (just "db" when coll is empty).
func (n Namespace) String() string {
	if n.Coll == "" {
		return n.DB
	}
	return n.DB + "." + n.Coll
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
	// DocumentID is the project's raw _id (documentKey._id), kept so that a
	// lookup by _id uses the original BSON type (ObjectID or string).
	DocumentID bson.RawValue
	// Op is the operationType the event was derived from (for logs).
	Op string
	// Set maps a configured source field path (as written in sync.fields) to
	// its new value; Unset lists source paths that were removed. Values are
	// plain Go values (see PlainValue): nil, bool, int32, int64, float64,
	// string, []byte, time.Time, map[string]any, []any.
	Set   map[string]any
	Unset []string
	// Lookup lists source paths whose new value must be read from MongoDB by
	// _id (a descendant of the path was updated). Filled in before apply
	// (Resolver.Resolve moves them to Set/Unset and empties Lookup).
	Lookup []string
	// Unresolved lists Lookup paths Resolve left out because the project no
	// longer exists (a later delete event of the stream handles it).
	Unresolved []string

	Token       bson.Raw
	ClusterTime bson.Timestamp
	WallTime    time.Time
}
