package mquery

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestAggregate(t *testing.T) {
	const docs = `[
		{"_id": 1, "k": "a", "n": 1, "t": ["x", "y"], "s": {"v": 3}},
		{"_id": 2, "k": "b", "n": 2.5, "t": [], "s": {"v": 1}},
		{"_id": 3, "k": "a", "n": {"$numberLong": "4"}, "s": {"v": 2}},
		{"_id": 4, "n": "str"}
	]`
	tests := []struct {
		name     string
		pipeline string
		want     string // canonical comparison of the output array
	}{
		{"empty pipeline", `[]`, docs},
		{"match", `[{"$match": {"k": "a"}}]`,
			`[{"_id": 1, "k": "a", "n": 1, "t": ["x", "y"], "s": {"v": 3}}, {"_id": 3, "k": "a", "n": {"$numberLong": "4"}, "s": {"v": 2}}]`},
		{"match array contains", `[{"$match": {"t": "y"}}, {"$project": {"_id": 1}}]`, `[{"_id": 1}]`},
		{"project inclusion and path", `[{"$match": {"_id": 1}}, {"$project": {"k": 1, "v": "$s.v", "_id": 0}}]`, `[{"k": "a", "v": 3}]`},
		{"project exclusion", `[{"$match": {"_id": 2}}, {"$project": {"t": 0, "s": 0, "n": 0}}]`, `[{"_id": 2, "k": "b"}]`},
		{"project literal", `[{"$match": {"_id": 2}}, {"$project": {"c": {"$literal": 0}, "x": "lit"}}]`, `[{"_id": 2, "c": 0, "x": "lit"}]`},
		{"addFields new and replace", `[{"$match": {"_id": 1}}, {"$addFields": {"k": "z", "w": "$s.v", "one": 1}}, {"$project": {"t": 0, "s": 0}}]`,
			`[{"_id": 1, "k": "z", "n": 1, "w": 3, "one": 1}]`},
		{"set merges into embedded doc", `[{"$match": {"_id": 1}}, {"$set": {"s": {"u": true}, "s2.q": "$k"}}, {"$project": {"s": 1, "s2": 1}}]`,
			`[{"_id": 1, "s": {"v": 3, "u": true}, "s2": {"q": "a"}}]`},
		{"set merges into array elements", `[{"$match": {"_id": 1}}, {"$project": {"k": 1, "d": [{"a": 1}, 5]}}, {"$set": {"d.z": "$k"}}]`,
			`[{"_id": 1, "k": "a", "d": [{"a": 1, "z": "a"}, {"z": "a"}]}]`},
		{"set $$REMOVE", `[{"$match": {"_id": 1}}, {"$set": {"k": "$$REMOVE"}}, {"$project": {"k": 1, "n": 1}}]`, `[{"_id": 1, "n": 1}]`},
		{"unset string", `[{"$match": {"_id": 2}}, {"$unset": "t"}, {"$unset": ["s", "n"]}]`, `[{"_id": 2, "k": "b"}]`},
		{"sort skip limit", `[{"$sort": {"s.v": -1}}, {"$skip": 1}, {"$limit": 2}, {"$project": {"_id": 1}}]`, `[{"_id": 3}, {"_id": 2}]`},
		{"sort missing first ascending", `[{"$sort": {"k": 1, "_id": -1}}, {"$project": {"_id": 1}}]`, `[{"_id": 4}, {"_id": 3}, {"_id": 1}, {"_id": 2}]`},
		{"count", `[{"$match": {"k": "a"}}, {"$count": "total"}]`, `[{"total": 2}]`},
		{"count of nothing", `[{"$match": {"k": "nope"}}, {"$count": "total"}]`, `[]`},
		{"CountDocuments shape", `[{"$match": {}}, {"$group": {"_id": 1, "n": {"$sum": 1}}}]`, `[{"_id": 1, "n": 4}]`},
		{"group null sum of field", `[{"$group": {"_id": null, "total": {"$sum": "$n"}}}]`, `[{"_id": null, "total": 7.5}]`},
		{"group by field", `[{"$group": {"_id": "$k", "c": {"$sum": 1}, "f": {"$first": "$_id"}, "mx": {"$max": "$s.v"}, "mn": {"$min": "$s.v"}}}]`,
			`[{"_id": "a", "c": 2, "f": 1, "mx": 3, "mn": 2}, {"_id": "b", "c": 1, "f": 2, "mx": 1, "mn": 1}, {"_id": null, "c": 1, "f": 4, "mx": null, "mn": null}]`},
		{"group sum int and long", `[{"$match": {"k": "a"}}, {"$group": {"_id": null, "s": {"$sum": "$n"}}}]`, `[{"_id": null, "s": {"$numberLong": "5"}}]`},
		{"group sum int32 overflow", `[{"$project": {"x": {"$literal": 2147483647}}}, {"$group": {"_id": null, "s": {"$sum": "$x"}}}]`,
			`[{"_id": null, "s": {"$numberLong": "8589934588"}}]`},
		{"group numeric keys equal across types", `[{"$project": {"g": {"$literal": 1}}}, {"$limit": 2}, {"$group": {"_id": "$g", "c": {"$count": {}}}}]`, `[{"_id": 1, "c": 2}]`},
		{"group push and avg", `[{"$match": {"k": "a"}}, {"$group": {"_id": "$k", "ids": {"$push": "$_id"}, "avg": {"$avg": "$s.v"}}}]`,
			`[{"_id": "a", "ids": [1, 3], "avg": 2.5}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := docsOf(t, docs)
			before := jsc(t, bson.D{{Key: "d", Value: in}})
			out, err := Aggregate(in, ja(t, tc.pipeline))
			if err != nil {
				t.Fatalf("Aggregate: %v", err)
			}
			if got, want := jsc(t, bson.D{{Key: "d", Value: out}}), jsc(t, bson.D{{Key: "d", Value: docsOf(t, tc.want)}}); got != want {
				t.Fatalf("Aggregate =\n%s\nwant\n%s", got, want)
			}
			if after := jsc(t, bson.D{{Key: "d", Value: in}}); after != before {
				t.Fatalf("input modified")
			}
		})
	}
}

func TestAggregateErrors(t *testing.T) {
	tests := []struct {
		name     string
		pipeline string
		wantCode int32
		wantName string
		wantMsg  string
	}{
		{"unknown stage", `[{"$match": {}}, {"$x": {}}]`, 40324, "Location40324", "Unrecognized pipeline stage name: '$x'"},
		{"two fields in a stage", `[{"$match": {}, "$limit": 1}]`, 40323, "Location40323", ""},
		{"stage not an object", `[1]`, 14, "TypeMismatch", ""},
		{"bad match", `[{"$match": {"a": {"$foo": 1}}}]`, 2, "BadValue", "unknown operator: $foo"},
		{"limit zero", `[{"$limit": 0}]`, 15958, "Location15958", "the limit must be positive"},
		{"skip negative", `[{"$skip": -1}]`, 5107200, "Location5107200", ""},
		{"count with dot", `[{"$count": "a.b"}]`, 40160, "Location40160", ""},
		{"group without _id", `[{"$group": {"n": {"$sum": 1}}}]`, 15955, "Location15955", ""},
		{"group unknown accumulator", `[{"$group": {"_id": null, "n": {"$foo": 1}}}]`, 15952, "Location15952", "unknown group operator '$foo'"},
		{"group field not accumulator", `[{"$group": {"_id": null, "n": 1}}]`, 40234, "Location40234", ""},
		{"project empty", `[{"$project": {}}]`, 51272, "Location51272", ""},
		{"project mixed", `[{"$project": {"a": 1, "b": 0}}]`, 31254, "Location31254", ""},
		{"sort empty", `[{"$sort": {}}]`, 15976, "Location15976", ""},
		{"sort bad direction", `[{"$sort": {"a": 2}}]`, 15975, "Location15975", ""},
		{"unset empty", `[{"$unset": []}]`, 31119, "Location31119", ""},
		{"unknown expression", `[{"$addFields": {"a": {"$concat": ["x"]}}}]`, 168, "InvalidPipelineOperator", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Aggregate(docsOf(t, `[{"_id": 1}]`), ja(t, tc.pipeline))
			assertError(t, err, tc.wantCode, tc.wantName, tc.wantMsg)
		})
	}
}

func docsOf(t *testing.T, s string) []bson.D {
	t.Helper()
	out := []bson.D{}
	for _, v := range ja(t, strings.TrimSpace(s)) {
		d, ok := v.(bson.D)
		if !ok {
			t.Fatalf("not a document: %v", v)
		}
		out = append(out, d)
	}
	return out
}
