package mquery

import (
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		filter string
		want   bool
	}{
		{"empty filter", `{"a": 1}`, `{}`, true},
		{"scalar eq", `{"a": 1}`, `{"a": 1}`, true},
		{"scalar different", `{"a": 1}`, `{"a": 2}`, false},
		{"int32 equals double", `{"a": 1}`, `{"a": 1.0}`, true},
		{"int64 equals int32", `{"a": {"$numberLong": "5"}}`, `{"a": 5}`, true},
		{"decimal equals int", `{"a": {"$numberDecimal": "5.0"}}`, `{"a": 5}`, true},
		{"decimal fraction", `{"a": {"$numberDecimal": "0.1"}}`, `{"a": {"$gt": 0.09, "$lt": 0.11}}`, true},
		{"string is not number", `{"a": "1"}`, `{"a": 1}`, false},
		{"array contains", `{"tags": ["a", "b"]}`, `{"tags": "a"}`, true},
		{"array does not contain", `{"tags": ["a", "b"]}`, `{"tags": "c"}`, false},
		{"whole array equal", `{"tags": ["a", "b"]}`, `{"tags": ["a", "b"]}`, true},
		{"whole array order matters", `{"tags": ["a", "b"]}`, `{"tags": ["b", "a"]}`, false},
		{"nested array element equals array", `{"x": [[1, 2], 3]}`, `{"x": [1, 2]}`, true},
		{"nested arrays not flattened", `{"x": [[1, 2]]}`, `{"x": 1}`, false},
		{"whole doc equal numeric types", `{"a": {"b": 1, "c": 2}}`, `{"a": {"b": 1, "c": 2.0}}`, true},
		{"whole doc field order matters", `{"a": {"b": 1, "c": 2}}`, `{"a": {"c": 2, "b": 1}}`, false},
		{"whole doc extra field", `{"a": {"b": 1, "c": 2}}`, `{"a": {"b": 1}}`, false},
		{"empty doc equality", `{"a": {}}`, `{"a": {}}`, true},
		{"dotted path", `{"a": {"b": {"c": "x"}}}`, `{"a.b.c": "x"}`, true},
		{"dotted through array of docs", `{"a": [{"b": 1}, {"b": 2}]}`, `{"a.b": 2}`, true},
		{"dotted through array of docs no match", `{"a": [{"b": 1}, {"b": 2}]}`, `{"a.b": 3}`, false},
		{"dotted leaf array", `{"a": [{"b": [7, 8]}]}`, `{"a.b": 8}`, true},
		{"dotted does not enter nested arrays", `{"a": [[{"b": 1}]]}`, `{"a.b": 1}`, false},
		{"array index path", `{"a": ["x", "y"]}`, `{"a.1": "y"}`, true},
		{"array index path wrong", `{"a": ["x", "y"]}`, `{"a.0": "y"}`, false},
		{"array index into doc", `{"a": [{"b": 1}, {"b": 2}]}`, `{"a.1.b": 2}`, true},
		{"numeric field name in element", `{"a": [{"1": 4}, 5]}`, `{"a.1": 4}`, true},
		{"null matches missing", `{"b": 1}`, `{"a": null}`, true},
		{"null matches null", `{"a": null}`, `{"a": null}`, true},
		{"null does not match value", `{"a": 1}`, `{"a": null}`, false},
		{"null matches element lacking field", `{"a": [{}, {"b": 1}]}`, `{"a.b": null}`, true},
		{"null ignores scalar elements", `{"a": [5, {"b": 1}]}`, `{"a.b": null}`, false},
		{"null through scalar", `{"a": 5}`, `{"a.b": null}`, true},
		{"null not empty array", `{"a": []}`, `{"a": null}`, false},
		{"null element in array", `{"a": [1, null]}`, `{"a": null}`, true},
		{"objectid eq", `{"_id": {"$oid": "5f1d7f5e1c9d440000a1b2c3"}}`, `{"_id": {"$oid": "5f1d7f5e1c9d440000a1b2c3"}}`, true},
		{"objectid not string", `{"_id": {"$oid": "5f1d7f5e1c9d440000a1b2c3"}}`, `{"_id": "5f1d7f5e1c9d440000a1b2c3"}`, false},
		{"$eq", `{"a": 2}`, `{"a": {"$eq": 2.0}}`, true},
		{"$ne different", `{"a": 2}`, `{"a": {"$ne": 3}}`, true},
		{"$ne equal", `{"a": 2}`, `{"a": {"$ne": 2}}`, false},
		{"$ne array containing", `{"a": [1, 2]}`, `{"a": {"$ne": 1}}`, false},
		{"$ne missing", `{}`, `{"a": {"$ne": 1}}`, true},
		{"$ne null missing", `{}`, `{"a": {"$ne": null}}`, false},
		{"$gt number", `{"a": {"$numberLong": "5"}}`, `{"a": {"$gt": 4.5}}`, true},
		{"$gt equal", `{"a": 5}`, `{"a": {"$gt": 5}}`, false},
		{"$gte equal", `{"a": 5}`, `{"a": {"$gte": 5.0}}`, true},
		{"$lt", `{"a": 5}`, `{"a": {"$lt": 6}}`, true},
		{"$lte", `{"a": 5}`, `{"a": {"$lte": 4}}`, false},
		{"$gt bracket string vs number", `{"a": "zzz"}`, `{"a": {"$gt": 1}}`, false},
		{"$lt bracket number vs string", `{"a": 1}`, `{"a": {"$lt": "a"}}`, false},
		{"$gt bracket bool vs number", `{"a": true}`, `{"a": {"$gt": 0}}`, false},
		{"$gt null never", `{"a": 1}`, `{"a": {"$gt": null}}`, false},
		{"$gte null matches missing", `{}`, `{"a": {"$gte": null}}`, true},
		{"$lt missing", `{}`, `{"a": {"$lt": 5}}`, false},
		{"$gt strings", `{"a": "b"}`, `{"a": {"$gt": "a"}}`, true},
		{"$lt strings bytewise", `{"a": "Z"}`, `{"a": {"$lt": "a"}}`, true},
		{"$gt dates", `{"a": {"$date": {"$numberLong": "2000"}}}`, `{"a": {"$gt": {"$date": {"$numberLong": "1000"}}}}`, true},
		{"$gt timestamp vs date", `{"a": {"$timestamp": {"t": 5, "i": 1}}}`, `{"a": {"$gt": {"$date": {"$numberLong": "1"}}}}`, false},
		{"$gt array element", `{"a": [1, 10]}`, `{"a": {"$gt": 5}}`, true},
		{"$gt and $lt on different elements", `{"a": [1, 10]}`, `{"a": {"$gt": 5, "$lt": 2}}`, true},
		{"$gt doc", `{"a": {"b": 2}}`, `{"a": {"$gt": {"b": 1}}}`, true},
		{"$gt MinKey matches anything", `{"a": "x"}`, `{"a": {"$gt": {"$minKey": 1}}}`, true},
		{"$lt MaxKey matches anything", `{"a": true}`, `{"a": {"$lt": {"$maxKey": 1}}}`, true},
		{"NaN not less", `{"a": {"$numberDouble": "NaN"}}`, `{"a": {"$lt": 5}}`, false},
		{"NaN not greater", `{"a": 5}`, `{"a": {"$gt": {"$numberDouble": "NaN"}}}`, false},
		{"NaN equals NaN", `{"a": {"$numberDouble": "NaN"}}`, `{"a": {"$numberDouble": "NaN"}}`, true},
		{"NaN gte NaN", `{"a": {"$numberDouble": "NaN"}}`, `{"a": {"$gte": {"$numberDouble": "NaN"}}}`, true},
		{"infinity greater", `{"a": {"$numberDouble": "Infinity"}}`, `{"a": {"$gt": {"$numberLong": "9223372036854775807"}}}`, true},
		{"big int64 vs double exact", `{"a": {"$numberLong": "9007199254740993"}}`, `{"a": {"$gt": 9007199254740992.0}}`, true},
		{"big int64 not equal to rounded double", `{"a": {"$numberLong": "9007199254740993"}}`, `{"a": 9007199254740992.0}`, false},
		{"$in", `{"a": 2}`, `{"a": {"$in": [1, 2.0]}}`, true},
		{"$in array field", `{"a": [3, 4]}`, `{"a": {"$in": [1, 4]}}`, true},
		{"$in null missing", `{}`, `{"a": {"$in": [null]}}`, true},
		{"$in regex", `{"a": "hello"}`, `{"a": {"$in": [{"$regularExpression": {"pattern": "^h", "options": ""}}]}}`, true},
		{"$in empty", `{"a": 1}`, `{"a": {"$in": []}}`, false},
		{"$nin", `{"a": 2}`, `{"a": {"$nin": [1, 2]}}`, false},
		{"$nin missing", `{}`, `{"a": {"$nin": [1, 2]}}`, true},
		{"$nin array containing", `{"a": [5, 2]}`, `{"a": {"$nin": [1, 2]}}`, false},
		{"$exists true on null", `{"a": null}`, `{"a": {"$exists": true}}`, true},
		{"$exists false on null", `{"a": null}`, `{"a": {"$exists": false}}`, false},
		{"$exists numeric true", `{}`, `{"a": {"$exists": 1}}`, false},
		{"$exists numeric false", `{}`, `{"a": {"$exists": 0}}`, true},
		{"$exists through array", `{"a": [{"b": 1}]}`, `{"a.b": {"$exists": true}}`, true},
		{"$exists through scalar array", `{"a": [1, 2]}`, `{"a.b": {"$exists": true}}`, false},
		{"$exists empty array", `{"a": []}`, `{"a": {"$exists": true}}`, true},
		{"$and", `{"a": 1, "b": 2}`, `{"$and": [{"a": 1}, {"b": 2}]}`, true},
		{"$and fails", `{"a": 1, "b": 2}`, `{"$and": [{"a": 1}, {"b": 3}]}`, false},
		{"$or", `{"a": 1}`, `{"$or": [{"a": 2}, {"a": 1}]}`, true},
		{"$or fails", `{"a": 1}`, `{"$or": [{"a": 2}, {"b": 1}]}`, false},
		{"$nor", `{"a": 1}`, `{"$nor": [{"a": 2}, {"b": 1}]}`, true},
		{"$nor fails", `{"a": 1}`, `{"$nor": [{"a": 1}]}`, false},
		{"$not", `{"a": 1}`, `{"a": {"$not": {"$gt": 5}}}`, true},
		{"$not missing", `{}`, `{"a": {"$not": {"$gt": 5}}}`, true},
		{"$not fails", `{"a": 6}`, `{"a": {"$not": {"$gt": 5}}}`, false},
		{"$not array any element", `{"a": [1, 6]}`, `{"a": {"$not": {"$gt": 5}}}`, false},
		{"$not regex", `{"a": "abc"}`, `{"a": {"$not": {"$regularExpression": {"pattern": "^x", "options": ""}}}}`, true},
		{"$regex with options", `{"a": "Hello"}`, `{"a": {"$regex": "^hel", "$options": "i"}}`, true},
		{"$regex case sensitive", `{"a": "Hello"}`, `{"a": {"$regex": "^hel"}}`, false},
		{"$regex x option", `{"a": "abc"}`, `{"a": {"$regex": "a b # letters", "$options": "x"}}`, true},
		{"$regex from regex value", `{"a": "ABC"}`, `{"a": {"$regex": {"$regularExpression": {"pattern": "b", "options": "i"}}}}`, true},
		{"regex literal on array", `{"a": ["x", "yes"]}`, `{"a": {"$regularExpression": {"pattern": "^y", "options": ""}}}`, true},
		{"regex ignores numbers", `{"a": 1}`, `{"a": {"$regularExpression": {"pattern": "1", "options": ""}}}`, false},
		{"$size", `{"a": [1, 2]}`, `{"a": {"$size": 2}}`, true},
		{"$size wrong", `{"a": [1, 2]}`, `{"a": {"$size": 1}}`, false},
		{"$size not array", `{"a": 1}`, `{"a": {"$size": 1}}`, false},
		{"$type string", `{"a": "x"}`, `{"a": {"$type": "string"}}`, true},
		{"$type number", `{"a": {"$numberLong": "1"}}`, `{"a": {"$type": "number"}}`, true},
		{"$type int is not long", `{"a": {"$numberLong": "1"}}`, `{"a": {"$type": "int"}}`, false},
		{"$type code", `{"a": 1.5}`, `{"a": {"$type": 1}}`, true},
		{"$type array", `{"a": []}`, `{"a": {"$type": "array"}}`, true},
		{"$type missing", `{}`, `{"a": {"$type": "null"}}`, false},
		{"$all", `{"a": [1, 2, 3]}`, `{"a": {"$all": [3, 1]}}`, true},
		{"$all missing one", `{"a": [1, 2, 3]}`, `{"a": {"$all": [3, 4]}}`, false},
		{"$all empty", `{"a": [1]}`, `{"a": {"$all": []}}`, false},
		{"$elemMatch doc no single element", `{"a": [{"b": 1, "c": 2}, {"b": 2, "c": 1}]}`, `{"a": {"$elemMatch": {"b": 1, "c": 1}}}`, false},
		{"$elemMatch doc", `{"a": [{"b": 1, "c": 2}, {"b": 2, "c": 1}]}`, `{"a": {"$elemMatch": {"b": 2, "c": 1}}}`, true},
		{"$elemMatch value no single element", `{"a": [1, 10]}`, `{"a": {"$elemMatch": {"$gt": 5, "$lt": 2}}}`, false},
		{"$elemMatch value", `{"a": [1, 10]}`, `{"a": {"$elemMatch": {"$gt": 5, "$lt": 20}}}`, true},
		{"$elemMatch not array", `{"a": {"b": 1}}`, `{"a": {"$elemMatch": {"b": 1}}}`, false},
		{"$comment ignored", `{"a": 1}`, `{"$comment": "hi", "a": 1}`, true},
		{"fields are and-ed", `{"a": 1, "b": 2}`, `{"a": 1, "b": 3}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Match(j(t, tc.doc), j(t, tc.filter))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Match(%s, %s) = %v, want %v", tc.doc, tc.filter, got, tc.want)
			}
		})
	}
}

func TestMatchErrors(t *testing.T) {
	tests := []struct {
		name     string
		filter   string
		wantCode int32
		wantName string
		wantMsg  string
	}{
		{"unknown operator", `{"a": {"$foo": 1}}`, 2, "BadValue", "unknown operator: $foo"},
		{"unknown top level operator", `{"$foo": 1}`, 2, "BadValue", ""},
		{"operator mixed with field", `{"a": {"$gt": 1, "b": 1}}`, 2, "BadValue", "unknown operator: b"},
		{"$in not array", `{"a": {"$in": 1}}`, 2, "BadValue", "$in needs an array"},
		{"$nin not array", `{"a": {"$nin": "x"}}`, 2, "BadValue", "$nin needs an array"},
		{"$and empty", `{"$and": []}`, 2, "BadValue", "$and/$or/$nor must be a nonempty array"},
		{"$or not array", `{"$or": {}}`, 2, "BadValue", "$or must be an array"},
		{"$or entry not object", `{"$or": [1]}`, 2, "BadValue", "$or/$and/$nor entries need to be full objects"},
		{"$not empty", `{"a": {"$not": {}}}`, 2, "BadValue", "$not cannot be empty"},
		{"$not scalar", `{"a": {"$not": 1}}`, 2, "BadValue", "$not needs a regex or a document"},
		{"unknown inside $or branch not taken", `{"$or": [{"a": 1}, {"b": {"$bad": 1}}]}`, 2, "BadValue", "unknown operator: $bad"},
		{"$options without $regex", `{"a": {"$options": "i"}}`, 2, "BadValue", "$options needs a $regex"},
		{"$size negative", `{"a": {"$size": -1}}`, 2, "BadValue", "$size may not be negative"},
		{"$type unknown alias", `{"a": {"$type": "nope"}}`, 2, "BadValue", "Unknown type name alias: nope"},
		{"$in with operator", `{"a": {"$in": [{"$gt": 1}]}}`, 2, "BadValue", "cannot nest $ under $in"},
		{"$regex options twice", `{"a": {"$regex": {"$regularExpression": {"pattern": "b", "options": "i"}}, "$options": "m"}}`, 2, "BadValue", ""},
		{"bad regex flag", `{"a": {"$regex": "b", "$options": "z"}}`, 51108, "Location51108", ""},
		{"$expr unsupported", `{"$expr": {"$eq": ["$a", 1]}}`, 2, "BadValue", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The document matches an earlier branch: errors must not depend on evaluation.
			_, err := Match(j(t, `{"a": 1}`), j(t, tc.filter))
			assertError(t, err, tc.wantCode, tc.wantName, tc.wantMsg)
		})
	}
}
