package mquery

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// stage is one parsed pipeline stage.
type stage func(docs []bson.D) ([]bson.D, error)

// Aggregate runs the stages $match, $project, $addFields/$set, $unset,
// $sort, $skip, $limit, $count and $group over docs. The whole pipeline is
// validated before any stage runs. docs are not modified.
func Aggregate(docs []bson.D, pipeline bson.A) ([]bson.D, error) {
	stages := make([]stage, 0, len(pipeline))
	for _, raw := range pipeline {
		st, err := parseStage(raw)
		if err != nil {
			return nil, err
		}
		stages = append(stages, st)
	}
	out := docs
	for _, st := range stages {
		var err error
		if out, err = st(out); err != nil {
			return nil, err
		}
	}
	// Stages such as $match pass documents through: copy so that callers
	// never share memory with the input.
	return mapDocs(out, copyDoc), nil
}

func mapDocs(docs []bson.D, fn func(bson.D) bson.D) []bson.D {
	out := make([]bson.D, len(docs))
	for i, d := range docs {
		out[i] = fn(d)
	}
	return out
}

func parseStage(raw any) (stage, error) {
	spec, ok := raw.(bson.D)
	if !ok {
		return nil, newError(CodeTypeMismatch, "Each element of the 'pipeline' array must be an object")
	}
	if len(spec) != 1 {
		return nil, newError(40323, "A pipeline stage specification object must contain exactly one field.")
	}
	name, arg := spec[0].Key, spec[0].Value
	switch name {
	case "$match":
		d, ok := arg.(bson.D)
		if !ok {
			return nil, newError(15959, "the match filter must be an expression in an object")
		}
		f, err := ParseFilter(d)
		if err != nil {
			return nil, err
		}
		return func(docs []bson.D) ([]bson.D, error) {
			var out []bson.D
			for _, doc := range docs {
				if f.Matches(doc) {
					out = append(out, doc)
				}
			}
			return out, nil
		}, nil
	case "$project", "$addFields", "$set":
		return parseProjectStage(name, arg)
	case "$unset":
		return parseUnsetStage(arg)
	case "$sort":
		d, ok := arg.(bson.D)
		if !ok {
			return nil, newError(15973, "the $sort key specification must be an object")
		}
		if len(d) == 0 {
			return nil, newError(15976, "$sort stage must have at least one sort key")
		}
		if _, err := parseSortSpec(d); err != nil {
			return nil, err
		}
		return func(docs []bson.D) ([]bson.D, error) {
			out := append([]bson.D(nil), docs...)
			return out, Sort(out, d)
		}, nil
	case "$skip":
		n, err := stageCount("$skip", arg, false)
		if err != nil {
			return nil, err
		}
		return func(docs []bson.D) ([]bson.D, error) {
			if n >= int64(len(docs)) {
				return nil, nil
			}
			return docs[n:], nil
		}, nil
	case "$limit":
		n, err := stageCount("$limit", arg, true)
		if err != nil {
			return nil, err
		}
		return func(docs []bson.D) ([]bson.D, error) {
			if n < int64(len(docs)) {
				return docs[:n], nil
			}
			return docs, nil
		}, nil
	case "$count":
		return parseCountStage(arg)
	case "$group":
		return parseGroupStage(arg)
	case "$replaceRoot", "$replaceWith":
		return parseReplaceRootStage(name, arg)
	}
	return nil, newError(40324, "Unrecognized pipeline stage name: '%s'", name)
}

func parseProjectStage(name string, arg any) (stage, error) {
	d, ok := arg.(bson.D)
	if !ok {
		if name == "$project" {
			return nil, newError(15969, "$project specification must be an object")
		}
		return nil, newError(40272, "%s specification stage must be an object, got %s", name, bsonType(arg))
	}
	mode := modeAddFields
	if name == "$project" {
		mode = modeProject
		if len(d) == 0 {
			return nil, newError(51272, "Invalid $project :: caused by :: projection specification must have at least one field")
		}
	}
	p, err := parseProjection(d, mode)
	if err != nil {
		return nil, err
	}
	return func(docs []bson.D) ([]bson.D, error) { return mapDocs(docs, p.apply), nil }, nil
}

func parseUnsetStage(arg any) (stage, error) {
	var fields []any
	switch v := arg.(type) {
	case string:
		fields = []any{v}
	case bson.A, []any:
		arr, _ := asArray(v)
		fields = arr
	default:
		return nil, newError(31002, "$unset specification must be a string or an array")
	}
	if len(fields) == 0 {
		return nil, newError(31119, "$unset specification must be a string or an array with at least one field")
	}
	spec := bson.D{}
	for _, f := range fields {
		s, ok := f.(string)
		if !ok {
			return nil, newError(31120, "$unset specification must be a string or an array containing only string values")
		}
		spec = append(spec, bson.E{Key: s, Value: int32(0)})
	}
	p, err := parseProjection(spec, modeProject)
	if err != nil {
		return nil, err
	}
	return func(docs []bson.D) ([]bson.D, error) { return mapDocs(docs, p.apply), nil }, nil
}

// stageCount validates the argument of $skip (>= 0) or $limit (> 0).
func stageCount(name string, arg any, positive bool) (int64, error) {
	n, ok := toNumber(arg)
	if !ok {
		if positive {
			return 0, newError(15957, "the limit must be specified as a number")
		}
		return 0, newError(15972, "Argument to $skip must be a number")
	}
	f := n.float()
	if n.isNaN() || f != float64(int64(f)) {
		return 0, newError(CodeBadValue, "invalid argument to %s stage: Cannot represent as a 64-bit integer: %s: %s", name, name, formatValue(arg))
	}
	switch {
	case positive && f <= 0:
		return 0, newError(15958, "the limit must be positive")
	case !positive && f < 0:
		return 0, newError(5107200, "invalid argument to $skip stage: Expected a non-negative number in: $skip: %s", formatValue(arg))
	}
	return int64(f), nil
}

func parseCountStage(arg any) (stage, error) {
	name, ok := arg.(string)
	switch {
	case !ok || name == "":
		return nil, newError(40156, "the count field must be a non-empty string")
	case strings.HasPrefix(name, "$"):
		return nil, newError(40158, "the count field cannot be a $-prefixed path")
	case strings.Contains(name, "."):
		return nil, newError(40160, "the count field cannot contain '.'")
	}
	return func(docs []bson.D) ([]bson.D, error) {
		if len(docs) == 0 {
			return nil, nil
		}
		return []bson.D{{{Key: name, Value: int32(len(docs))}}}, nil
	}, nil
}

// parseReplaceRootStage parses {$replaceRoot: {newRoot: expr}} and
// {$replaceWith: expr}.
func parseReplaceRootStage(name string, arg any) (stage, error) {
	spec := arg
	if name == "$replaceRoot" {
		d, ok := arg.(bson.D)
		if !ok {
			return nil, newError(40229, "expected an object as specification for $replaceRoot stage, got %s", bsonType(arg))
		}
		nr, ok := field(d, "newRoot")
		if !ok || len(d) != 1 {
			return nil, newError(40231, "no newRoot specified for the $replaceRoot stage")
		}
		spec = nr
	}
	expr, err := parseExpression(spec)
	if err != nil {
		return nil, err
	}
	return func(docs []bson.D) ([]bson.D, error) {
		out := make([]bson.D, 0, len(docs))
		for _, doc := range docs {
			v, _ := expr.eval(doc)
			d, ok := v.(bson.D)
			if !ok {
				return nil, newError(40228, "'replacement document' must evaluate to an object, but resulting value was: %s. Type of resulting value: '%s'. Input document: %s",
					formatValue(v), bsonType(v), formatValue(doc))
			}
			out = append(out, d)
		}
		return out, nil
	}, nil
}
