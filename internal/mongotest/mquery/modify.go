package mquery

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// leafOp is what a modification does at its target.
type leafOp int

const (
	leafNoop leafOp = iota
	leafSet
	leafUnset
)

// leafResult is the decision of a leafFn.
type leafResult struct {
	op  leafOp
	val any
	// appendFrom is, for $push/$addToSet on an existing array, the index of
	// the first appended element (-1 otherwise); appendTo is the new length.
	appendFrom, appendTo int
}

// leafFn decides what to do at a target given its current value.
type leafFn func(old any, exists bool) (leafResult, error)

// modResult reports what a modification did.
type modResult struct {
	op leafOp
	// createdAt is the index of the first path component that did not exist
	// (-1 if the whole path existed).
	createdAt            int
	appendFrom, appendTo int
}

var noop = modResult{op: leafNoop, createdAt: -1, appendFrom: -1}

// maxPadIndex bounds array padding by "a.N" updates.
const maxPadIndex = 1 << 20

// modify applies fn at the path in doc, creating missing intermediate
// documents when fn sets a value. doc may be modified in place; use the
// returned document.
func modify(doc bson.D, parts []string, fn leafFn) (bson.D, modResult, error) {
	out, res, err := modifyIn(doc, parts, 0, "", fn)
	if err != nil {
		return nil, noop, err
	}
	d, _ := out.(bson.D)
	return d, res, nil
}

func modifyIn(cur any, parts []string, depth int, parentKey string, fn leafFn) (any, modResult, error) {
	key := parts[depth]
	last := depth == len(parts)-1
	switch c := cur.(type) {
	case bson.D:
		idx := fieldIndex(c, key)
		if idx >= 0 && !last {
			child, res, err := modifyIn(c[idx].Value, parts, depth+1, key, fn)
			if err != nil {
				return nil, noop, err
			}
			c[idx].Value = child
			return c, res, nil
		}
		var old any
		if idx >= 0 {
			old = c[idx].Value
		}
		lr, err := fn(old, idx >= 0)
		if err != nil {
			return nil, noop, err
		}
		switch {
		case lr.op == leafNoop:
			return c, noop, nil
		case lr.op == leafUnset:
			if idx < 0 {
				return c, noop, nil
			}
			out := append(c[:idx:idx], c[idx+1:]...)
			return out, modResult{op: leafUnset, createdAt: -1, appendFrom: -1}, nil
		case idx >= 0:
			c[idx].Value = lr.val
			return c, modResult{op: leafSet, createdAt: -1, appendFrom: lr.appendFrom, appendTo: lr.appendTo}, nil
		}
		c = append(c, bson.E{Key: key, Value: nest(parts[depth+1:], lr.val)})
		return c, modResult{op: leafSet, createdAt: depth, appendFrom: -1}, nil
	case bson.A, []any:
		arr, _ := asArray(c)
		i, ok := arrayIndex(key)
		if !ok {
			return notViable(cur, key, parentKey, fn)
		}
		if i < len(arr) && !last {
			child, res, err := modifyIn(arr[i], parts, depth+1, key, fn)
			if err != nil {
				return nil, noop, err
			}
			arr[i] = child
			return arr, res, nil
		}
		exists := i < len(arr)
		var old any
		if exists {
			old = arr[i]
		}
		lr, err := fn(old, exists)
		if err != nil {
			return nil, noop, err
		}
		switch {
		case lr.op == leafNoop:
			return arr, noop, nil
		case lr.op == leafUnset:
			if !exists {
				return arr, noop, nil
			}
			// $unset of an array element leaves null in its place.
			arr[i] = nil
			return arr, modResult{op: leafSet, createdAt: -1, appendFrom: -1}, nil
		case exists:
			arr[i] = lr.val
			return arr, modResult{op: leafSet, createdAt: -1, appendFrom: lr.appendFrom, appendTo: lr.appendTo}, nil
		}
		if i > maxPadIndex {
			return nil, noop, newError(CodeBadValue, "can't backfill array to larger than 1048576 elements")
		}
		for len(arr) <= i {
			arr = append(arr, nil)
		}
		arr[i] = nest(parts[depth+1:], lr.val)
		return arr, modResult{op: leafSet, createdAt: depth, appendFrom: -1}, nil
	}
	return notViable(cur, key, parentKey, fn)
}

// notViable handles a path that continues below a scalar (or below an
// array with a non-numeric name): an error if the modification would
// create something there, a no-op otherwise ($unset).
func notViable(cur any, key, parentKey string, fn leafFn) (any, modResult, error) {
	lr, err := fn(nil, false)
	if err != nil {
		return nil, noop, err
	}
	if lr.op != leafSet {
		return cur, noop, nil
	}
	return nil, noop, newError(CodePathNotViable, "Cannot create field '%s' in element %s", key, formatElem(parentKey, cur))
}

// nest wraps v in documents along parts: nest([b c], v) is {b: {c: v}}.
func nest(parts []string, v any) any {
	for i := len(parts) - 1; i >= 0; i-- {
		v = bson.D{{Key: parts[i], Value: v}}
	}
	return v
}
