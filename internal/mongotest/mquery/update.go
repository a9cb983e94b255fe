package mquery

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Changes describes what an update did, in change-stream terms.
type Changes struct {
	Updated bson.D   // dotted path -> new value (updateDescription.updatedFields)
	Removed []string // dotted paths (updateDescription.removedFields)
}

// ApplyUpdate applies update (an operator document such as {$set: ...}, or a
// replacement document) to doc and returns the new document. insert is true
// when the update runs as the insert half of an upsert ($setOnInsert applies).
// replaced is true when update was a replacement document.
func ApplyUpdate(doc bson.D, update bson.D, insert bool) (out bson.D, ch Changes, replaced bool, err error) {
	return nil, Changes{}, false, newError(CodeBadValue, "update: not implemented yet")
}
