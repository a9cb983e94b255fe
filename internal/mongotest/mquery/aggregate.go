package mquery

import "go.mongodb.org/mongo-driver/v2/bson"

// Aggregate runs the stages $match, $project, $addFields/$set, $unset, $sort,
// $skip, $limit, $count and $group (with $sum) over docs.
func Aggregate(docs []bson.D, pipeline bson.A) ([]bson.D, error) {
	return nil, newError(CodeBadValue, "aggregate: not implemented yet")
}
