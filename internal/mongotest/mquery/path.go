package mquery

import (
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Lookup returns the value at a dotted path. Documents are entered by field
// name and arrays by numeric index ("a.0.b"); there is no implicit traversal
// of arrays of documents.
func Lookup(doc bson.D, path string) (any, bool) {
	var cur any = doc
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case bson.D:
			v, ok := field(c, part)
			if !ok {
				return nil, false
			}
			cur = v
		case bson.A, []any:
			arr, _ := asArray(c)
			i, ok := arrayIndex(part)
			if !ok || i >= len(arr) {
				return nil, false
			}
			cur = arr[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// field returns the value of the first field named key.
func field(doc bson.D, key string) (any, bool) {
	for _, e := range doc {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// fieldIndex returns the position of the field named key, or -1.
func fieldIndex(doc bson.D, key string) int {
	for i, e := range doc {
		if e.Key == key {
			return i
		}
	}
	return -1
}

// arrayIndex parses a path component as an array index: decimal digits only,
// no sign, no leading zeros except "0" itself.
func arrayIndex(part string) (int, bool) {
	if part == "" || len(part) > 9 {
		return 0, false
	}
	if len(part) > 1 && part[0] == '0' {
		return 0, false
	}
	for _, r := range part {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(part)
	return i, err == nil
}

// walkPath visits the values that a query path reaches in v, as MongoDB's
// query matching does: arrays met before the last component are traversed
// element by element (documents only; scalars and nested arrays are
// skipped), and a numeric component also indexes the array. visit is called
// with missing=true where a document lacks the next field.
func walkPath(v any, parts []string, visit func(val any, missing bool)) {
	if len(parts) == 0 {
		visit(v, false)
		return
	}
	switch c := v.(type) {
	case bson.D:
		child, ok := field(c, parts[0])
		if !ok {
			visit(nil, true)
			return
		}
		walkPath(child, parts[1:], visit)
	case bson.A, []any:
		arr, _ := asArray(c)
		if i, ok := arrayIndex(parts[0]); ok {
			if i < len(arr) {
				walkPath(arr[i], parts[1:], visit)
			}
			// A field named like the index in element documents also counts.
			for _, el := range arr {
				if d, ok := el.(bson.D); ok {
					if child, ok := field(d, parts[0]); ok {
						walkPath(child, parts[1:], visit)
					}
				}
			}
			return
		}
		for _, el := range arr {
			if d, ok := el.(bson.D); ok {
				walkPath(d, parts, visit)
			}
		}
	default:
		visit(nil, true)
	}
}

// splitPath splits a dotted path into components.
func splitPath(path string) []string { return strings.Split(path, ".") }
