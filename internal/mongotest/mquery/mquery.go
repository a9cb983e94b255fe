// Package mquery is the query engine of the test server: MongoDB filter
// matching, update operators, projection, sort and a small aggregation
// pipeline, all on bson.D documents.
package mquery

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrNotImplemented marks an unfinished part (replaced as the package grows).
var errNotImplemented = errors.New("mquery: not implemented yet")

// Error is a MongoDB-shaped command error (code, codeName, errmsg).
type Error struct {
	Code     int32
	CodeName string
	Msg      string
}

func (e *Error) Error() string { return e.CodeName + ": " + e.Msg }

// Match reports whether doc matches the query filter.
func Match(doc bson.D, filter bson.D) (bool, error) { return false, errNotImplemented }

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
	return nil, Changes{}, false, errNotImplemented
}

// Project applies a find-style projection ({a: 1, "b.c": 1} or {a: 0}; _id
// included unless excluded).
func Project(doc bson.D, projection bson.D) (bson.D, error) { return nil, errNotImplemented }

// Sort sorts docs in place by a sort specification ({a: 1, b: -1}), stable.
func Sort(docs []bson.D, spec bson.D) error { return errNotImplemented }

// Compare orders two BSON values as MongoDB does (type order, then value).
func Compare(a, b any) int { return 0 }

// Lookup returns the value at a dotted path.
func Lookup(doc bson.D, path string) (any, bool) { return nil, false }

// Aggregate runs the stages $match, $project, $addFields/$set, $unset, $sort,
// $skip, $limit, $count and $group (with $sum) over docs.
func Aggregate(docs []bson.D, pipeline bson.A) ([]bson.D, error) { return nil, errNotImplemented }
