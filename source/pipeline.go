package source

import (
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// watchedOps are the operation types the server passes on. Inserts are
// dropped server-side (a new project has no assets yet); expanded events
// (create, createIndexes, modify, ...) are dropped too. A real server
// delivers invalidate whatever the $match says; it is listed for clarity.
var watchedOps = [...]string{"delete", "update", "replace", "drop", "rename", "dropDatabase", "invalidate"}

// pipeline is the server-side change stream pipeline: a $match on
// operationType and a $project down to what Source reads.
//
// The $project keeps _id (the resume token: the server refuses a stream
// whose token was modified or removed). fullDocument is kept as is: the
// stream is opened without updateLookup, so only inserts (filtered out) and
// replaces carry it, and replaces need it. to is kept so a rename can be
// reported with its target.
func pipeline() mongo.Pipeline {
	ops := make(bson.A, 0, len(watchedOps))
	for _, op := range watchedOps {
		ops = append(ops, op)
	}
	return mongo.Pipeline{
		{{Key: "$match", Value: bson.D{
			{Key: "operationType", Value: bson.D{{Key: "$in", Value: ops}}},
		}}},
		{{Key: "$project", Value: bson.D{
			{Key: "_id", Value: 1},
			{Key: "operationType", Value: 1},
			{Key: "clusterTime", Value: 1},
			{Key: "wallTime", Value: 1},
			{Key: "ns", Value: 1},
			{Key: "to", Value: 1},
			{Key: "documentKey", Value: 1},
			{Key: "updateDescription", Value: 1},
			{Key: "fullDocument", Value: 1},
		}}},
	}
}
