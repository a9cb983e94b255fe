// Package mquery is the query engine of the test server: MongoDB filter
// matching, update operators, projection, sort and a small aggregation
// pipeline, all on bson.D documents (nested documents as bson.D, arrays as
// bson.A).
//
// It follows MongoDB 7 semantics where implemented: implicit array
// traversal and array-contains equality in filters, comparison within type
// brackets, BSON type order for sorting, change-stream style update
// descriptions, and MongoDB's error codes as *Error values.
//
// Not implemented (each reported as an *Error, never silently ignored):
// $expr, $where, $text, $jsonSchema, $mod and geo operators in filters;
// positional ($, $[], $[<id>]) updates, $pull/$pop/$mul/$bit, $push
// modifiers other than $each, decimal arithmetic in $inc; $slice,
// $elemMatch and $meta projections; aggregation stages other than $match,
// $project, $addFields/$set, $unset, $sort, $skip, $limit, $count and
// $group, and expression operators other than $literal. Regular expressions
// use Go's RE2 syntax, which differs from PCRE in places (no look-around,
// no back-references).
package mquery
