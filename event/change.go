package event

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Change is one raw change event of the projects collection, as the source
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
