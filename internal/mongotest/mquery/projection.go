package mquery

import "go.mongodb.org/mongo-driver/v2/bson"

// Project applies a find-style projection ({a: 1, "b.c": 1} or {a: 0}; _id
// included unless excluded).
func Project(doc bson.D, projection bson.D) (bson.D, error) {
	return nil, newError(CodeBadValue, "projection: not implemented yet")
}
