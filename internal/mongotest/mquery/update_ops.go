package mquery

import (
	"math"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func setFn(v any) leafFn {
	return func(old any, exists bool) (leafResult, error) {
		if exists && identical(old, v) {
			return leafResult{op: leafNoop}, nil
		}
		return leafResult{op: leafSet, val: deepCopy(v), appendFrom: -1}, nil
	}
}

func unsetFn(_ any, exists bool) (leafResult, error) {
	if !exists {
		return leafResult{op: leafNoop}, nil
	}
	return leafResult{op: leafUnset}, nil
}

// incFn implements $inc: int32+int32 stays int32 unless it overflows (then
// int64), int64 overflow is an error, any double makes a double.
func incFn(path string, operand any, idDesc string) (leafFn, error) {
	if _, ok := toNumber(operand); !ok {
		return nil, newError(CodeTypeMismatch, "Cannot increment with non-numeric argument: %s", formatElem(path, operand))
	}
	field := path[strings.LastIndex(path, ".")+1:]
	return func(old any, exists bool) (leafResult, error) {
		if !exists {
			return leafResult{op: leafSet, val: operand, appendFrom: -1}, nil
		}
		if _, ok := toNumber(old); !ok {
			return leafResult{}, newError(CodeTypeMismatch,
				"Cannot apply $inc to a value of non-numeric type. %s has the field '%s' of non-numeric type %s", idDesc, field, bsonType(old))
		}
		sum, ok := addNumbers(old, operand)
		if !ok {
			return leafResult{}, newError(CodeBadValue,
				"Failed to apply $inc operations to current value (%s) for document %s", formatValue(old), idDesc)
		}
		if identical(sum, old) {
			return leafResult{op: leafNoop}, nil
		}
		return leafResult{op: leafSet, val: sum, appendFrom: -1}, nil
	}, nil
}

// addNumbers adds two numbers with MongoDB's type promotion. It reports
// false on int64 overflow and for decimals (not supported here).
func addNumbers(a, b any) (any, bool) {
	x, _ := toNumber(a)
	y, _ := toNumber(b)
	switch {
	case x.kind == numDecimal || y.kind == numDecimal:
		return nil, false
	case x.kind == numFloat || y.kind == numFloat:
		return x.float() + y.float(), true
	}
	s := x.i + y.i
	if (s > x.i) != (y.i > 0) { // overflow
		return nil, false
	}
	if x.bits == 32 && y.bits == 32 && s >= math.MinInt32 && s <= math.MaxInt32 {
		return int32(s), true
	}
	return s, true
}

func minMaxFn(isMin bool, v any) leafFn {
	return func(old any, exists bool) (leafResult, error) {
		if exists {
			c := Compare(v, old)
			if (isMin && c >= 0) || (!isMin && c <= 0) {
				return leafResult{op: leafNoop}, nil
			}
		}
		return leafResult{op: leafSet, val: deepCopy(v), appendFrom: -1}, nil
	}
}

func currentDateFn(spec any) (leafFn, error) {
	asTimestamp := false
	switch s := spec.(type) {
	case bool:
	case bson.D:
		t, _ := field(s, "$type")
		switch {
		case len(s) == 1 && t == "date":
		case len(s) == 1 && t == "timestamp":
			asTimestamp = true
		default:
			return nil, newError(CodeBadValue, "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}")
		}
	default:
		return nil, newError(CodeBadValue, "%s is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).", bsonType(spec))
	}
	return func(any, bool) (leafResult, error) {
		now := time.Now()
		var v any = bson.NewDateTimeFromTime(now)
		if asTimestamp {
			v = bson.Timestamp{T: uint32(now.Unix()), I: 1}
		}
		return leafResult{op: leafSet, val: v, appendFrom: -1}, nil
	}, nil
}

// pushFn implements $push and $addToSet with a single value or {$each: [...]}.
func pushFn(op string, parts []string, v any, idDesc string) (leafFn, error) {
	items := bson.A{v}
	if d, ok := v.(bson.D); ok && len(d) > 0 && d[0].Key == "$each" {
		each, ok := asArray(d[0].Value)
		if !ok {
			return nil, newError(CodeBadValue, "The argument to $each in %s must be an array but it was of type: %s", op, bsonType(d[0].Value))
		}
		if len(d) > 1 {
			return nil, newError(CodeBadValue, "%s modifier %s is not supported by the test server", op, d[1].Key)
		}
		items = each
	}
	path := strings.Join(parts, ".")
	return func(old any, exists bool) (leafResult, error) {
		var arr bson.A
		if exists {
			a, ok := asArray(old)
			if !ok {
				return leafResult{}, newError(CodeBadValue, "The field '%s' must be an array but is of type %s in document %s", path, bsonType(old), idDesc)
			}
			arr = a
		}
		out := slices.Clone(arr)
		if out == nil {
			out = bson.A{}
		}
		for _, it := range items {
			if op == "$addToSet" && slices.ContainsFunc(out, func(x any) bool { return Equal(x, it) }) {
				continue
			}
			out = append(out, deepCopy(it))
		}
		if !exists {
			return leafResult{op: leafSet, val: out, appendFrom: -1}, nil
		}
		if len(out) == len(arr) {
			return leafResult{op: leafNoop}, nil
		}
		return leafResult{op: leafSet, val: out, appendFrom: len(arr), appendTo: len(out)}, nil
	}, nil
}

func parseRenameTarget(from string, to any) ([]string, error) {
	s, ok := to.(string)
	if !ok {
		return nil, newError(CodeBadValue, "The 'to' field for $rename must be a string: %s", formatElem(from, to))
	}
	if s == from {
		return nil, newError(CodeBadValue, "The source and target field for $rename must differ: %s", formatElem(from, to))
	}
	return parseUpdatePath(s)
}

// applyRename moves the value at op.from to op.parts. Neither path may go
// through an array.
func applyRename(doc bson.D, op updateOp, rec *changeRecorder) (bson.D, error) {
	if throughArray(doc, op.from) {
		return nil, newError(CodeBadValue, "The source field cannot be an array element, '%s' in doc with array field", strings.Join(op.from, "."))
	}
	if throughArray(doc, op.parts) {
		return nil, newError(CodeBadValue, "The destination field cannot be an array element, '%s' in doc with array field", strings.Join(op.parts, "."))
	}
	v, ok := Lookup(doc, strings.Join(op.from, "."))
	if !ok {
		return doc, nil
	}
	out, res, err := modify(doc, op.from, unsetFn)
	if err != nil {
		return nil, err
	}
	rec.record(op.from, res)
	out, res, err = modify(out, op.parts, func(any, bool) (leafResult, error) {
		return leafResult{op: leafSet, val: v, appendFrom: -1}, nil
	})
	if err != nil {
		return nil, err
	}
	rec.record(op.parts, res)
	return out, nil
}

// throughArray reports whether the path meets an array anywhere in doc (at
// the target itself included).
func throughArray(doc bson.D, parts []string) bool {
	var cur any = doc
	for _, p := range parts {
		d, ok := cur.(bson.D)
		if !ok {
			_, isArr := asArray(cur)
			return isArr
		}
		v, ok := field(d, p)
		if !ok {
			return false
		}
		cur = v
	}
	return false
}
