package mquery

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// typeAliases maps $type aliases to BSON type numbers.
var typeAliases = map[string]int{
	"double": 1, "string": 2, "object": 3, "array": 4, "binData": 5,
	"undefined": 6, "objectId": 7, "bool": 8, "date": 9, "null": 10,
	"regex": 11, "dbPointer": 12, "javascript": 13, "symbol": 14,
	"javascriptWithScope": 15, "int": 16, "timestamp": 17, "long": 18,
	"decimal": 19, "minKey": -1, "maxKey": 127,
}

// typeNumber returns the BSON type number of a value.
func typeNumber(v any) int {
	n, ok := typeAliases[bsonType(v)]
	if !ok {
		return 3
	}
	return n
}

// parseType compiles $type with a type number, an alias, "number", or an
// array of those.
func parseType(parts []string, v any) (matcher, error) {
	specs, ok := asArray(v)
	if !ok {
		specs = bson.A{v}
	}
	want := map[int]bool{}
	anyNumber := false
	for _, s := range specs {
		switch x := s.(type) {
		case string:
			if x == "number" {
				anyNumber = true
				continue
			}
			n, ok := typeAliases[x]
			if !ok {
				return nil, newError(CodeBadValue, "Unknown type name alias: %s", x)
			}
			want[n] = true
		default:
			n, ok := toNumber(s)
			if !ok {
				return nil, newError(CodeTypeMismatch, "type must be represented as a number or a string")
			}
			f := n.float()
			if f != float64(int(f)) {
				return nil, newError(CodeBadValue, "Invalid numerical type code: %v", s)
			}
			want[int(f)] = true
		}
	}
	return pathMatcher{parts: parts, expand: true, test: func(v any) bool {
		if _, ok := v.(missingValue); ok {
			return false
		}
		if anyNumber && typeRank(v) == rankNumber {
			return true
		}
		return want[typeNumber(v)]
	}}, nil
}
