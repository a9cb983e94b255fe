package mquery

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestApplyUpdate(t *testing.T) {
	tests := []struct {
		name        string
		doc         string
		update      string
		insert      bool
		want        string // canonical comparison (types matter)
		wantUpdated string
		wantRemoved []string
		replaced    bool
	}{
		{"set existing", `{"_id": 1, "a": 1, "b": 2}`, `{"$set": {"a": 5}}`, false,
			`{"_id": 1, "a": 5, "b": 2}`, `{"a": 5}`, nil, false},
		{"set new field appended", `{"_id": 1, "b": 2}`, `{"$set": {"a": 5}}`, false,
			`{"_id": 1, "b": 2, "a": 5}`, `{"a": 5}`, nil, false},
		{"new fields in path order", `{"_id": 1}`, `{"$set": {"z": 1, "a": 2}}`, false,
			`{"_id": 1, "a": 2, "z": 1}`, `{"a": 2, "z": 1}`, nil, false},
		{"numeric names numeric order", `{"_id": 1}`, `{"$set": {"a.10": 1, "a.9": 2}}`, false,
			`{"_id": 1, "a": {"9": 2, "10": 1}}`, `{"a": {"9": 2, "10": 1}}`, nil, false},
		{"set dotted existing", `{"_id": 1, "a": {"b": 1, "c": 2}}`, `{"$set": {"a.c": 3}}`, false,
			`{"_id": 1, "a": {"b": 1, "c": 3}}`, `{"a.c": 3}`, nil, false},
		{"set dotted new in existing doc", `{"_id": 1, "a": {"b": 1}}`, `{"$set": {"a.c.d": 3}}`, false,
			`{"_id": 1, "a": {"b": 1, "c": {"d": 3}}}`, `{"a.c": {"d": 3}}`, nil, false},
		{"set dotted creates intermediates", `{"_id": 1}`, `{"$set": {"a.b.c": "x"}}`, false,
			`{"_id": 1, "a": {"b": {"c": "x"}}}`, `{"a": {"b": {"c": "x"}}}`, nil, false},
		{"two sets into one new doc", `{"_id": 1}`, `{"$set": {"a.y": 1, "a.x": 2}}`, false,
			`{"_id": 1, "a": {"x": 2, "y": 1}}`, `{"a": {"x": 2, "y": 1}}`, nil, false},
		{"set whole subdocument", `{"_id": 1, "a": {"b": 1, "c": 2}}`, `{"$set": {"a": {"b": 1, "c": 3}}}`, false,
			`{"_id": 1, "a": {"b": 1, "c": 3}}`, `{"a": {"b": 1, "c": 3}}`, nil, false},
		{"no-op set", `{"_id": 1, "a": "x"}`, `{"$set": {"a": "x"}}`, false,
			`{"_id": 1, "a": "x"}`, `{}`, nil, false},
		{"set same value other type changes", `{"_id": 1, "a": 1}`, `{"$set": {"a": 1.0}}`, false,
			`{"_id": 1, "a": 1.0}`, `{"a": 1.0}`, nil, false},
		{"set array element", `{"_id": 1, "a": [1, 2]}`, `{"$set": {"a.1": 5}}`, false,
			`{"_id": 1, "a": [1, 5]}`, `{"a.1": 5}`, nil, false},
		{"set array element pads", `{"_id": 1, "a": [1]}`, `{"$set": {"a.2": 5}}`, false,
			`{"_id": 1, "a": [1, null, 5]}`, `{"a.2": 5}`, nil, false},
		{"set in array element doc", `{"_id": 1, "a": [{"b": 1}]}`, `{"$set": {"a.0.b": 2}}`, false,
			`{"_id": 1, "a": [{"b": 2}]}`, `{"a.0.b": 2}`, nil, false},
		{"set same _id allowed", `{"_id": 1, "a": 1}`, `{"$set": {"_id": 1, "a": 2}}`, false,
			`{"_id": 1, "a": 2}`, `{"a": 2}`, nil, false},
		{"unset", `{"_id": 1, "a": 1, "b": 2}`, `{"$unset": {"a": ""}}`, false,
			`{"_id": 1, "b": 2}`, `{}`, []string{"a"}, false},
		{"unset missing is no-op", `{"_id": 1, "b": 2}`, `{"$unset": {"a": "", "b.c": 1}}`, false,
			`{"_id": 1, "b": 2}`, `{}`, nil, false},
		{"unset dotted", `{"_id": 1, "a": {"b": 1, "c": 2}}`, `{"$unset": {"a.b": 1}}`, false,
			`{"_id": 1, "a": {"c": 2}}`, `{}`, []string{"a.b"}, false},
		{"unset array element leaves null", `{"_id": 1, "a": [1, 2]}`, `{"$unset": {"a.0": 1}}`, false,
			`{"_id": 1, "a": [null, 2]}`, `{"a.0": null}`, nil, false},
		{"set and unset", `{"_id": 1, "a": 1, "b": 2}`, `{"$set": {"c": 3}, "$unset": {"a": 1}}`, false,
			`{"_id": 1, "b": 2, "c": 3}`, `{"c": 3}`, []string{"a"}, false},
		{"inc int32", `{"_id": 1, "n": 1}`, `{"$inc": {"n": 2}}`, false,
			`{"_id": 1, "n": 3}`, `{"n": 3}`, nil, false},
		{"inc int32 overflow to int64", `{"_id": 1, "n": 2147483647}`, `{"$inc": {"n": 1}}`, false,
			`{"_id": 1, "n": {"$numberLong": "2147483648"}}`, `{"n": {"$numberLong": "2147483648"}}`, nil, false},
		{"inc int64 by int32", `{"_id": 1, "n": {"$numberLong": "5"}}`, `{"$inc": {"n": 1}}`, false,
			`{"_id": 1, "n": {"$numberLong": "6"}}`, `{"n": {"$numberLong": "6"}}`, nil, false},
		{"inc int by double", `{"_id": 1, "n": 1}`, `{"$inc": {"n": 0.5}}`, false,
			`{"_id": 1, "n": 1.5}`, `{"n": 1.5}`, nil, false},
		{"inc missing sets", `{"_id": 1}`, `{"$inc": {"a.n": {"$numberLong": "2"}}}`, false,
			`{"_id": 1, "a": {"n": {"$numberLong": "2"}}}`, `{"a": {"n": {"$numberLong": "2"}}}`, nil, false},
		{"inc by zero no-op", `{"_id": 1, "n": 7}`, `{"$inc": {"n": 0}}`, false,
			`{"_id": 1, "n": 7}`, `{}`, nil, false},
		{"min lowers", `{"_id": 1, "n": 5}`, `{"$min": {"n": 3}}`, false,
			`{"_id": 1, "n": 3}`, `{"n": 3}`, nil, false},
		{"min keeps", `{"_id": 1, "n": 5}`, `{"$min": {"n": 7}}`, false,
			`{"_id": 1, "n": 5}`, `{}`, nil, false},
		{"max raises", `{"_id": 1, "n": 5}`, `{"$max": {"n": 7.5}}`, false,
			`{"_id": 1, "n": 7.5}`, `{"n": 7.5}`, nil, false},
		{"max across types uses type order", `{"_id": 1, "n": 5}`, `{"$max": {"n": "a"}}`, false,
			`{"_id": 1, "n": "a"}`, `{"n": "a"}`, nil, false},
		{"push existing", `{"_id": 1, "t": ["a"]}`, `{"$push": {"t": "b"}}`, false,
			`{"_id": 1, "t": ["a", "b"]}`, `{"t.1": "b"}`, nil, false},
		{"push each", `{"_id": 1, "t": ["a"]}`, `{"$push": {"t": {"$each": ["b", "c"]}}}`, false,
			`{"_id": 1, "t": ["a", "b", "c"]}`, `{"t.1": "b", "t.2": "c"}`, nil, false},
		{"push missing creates array", `{"_id": 1}`, `{"$push": {"t": "a"}}`, false,
			`{"_id": 1, "t": ["a"]}`, `{"t": ["a"]}`, nil, false},
		{"addToSet skips present", `{"_id": 1, "t": [1, "a"]}`, `{"$addToSet": {"t": {"$each": [1.0, "b", "b"]}}}`, false,
			`{"_id": 1, "t": [1, "a", "b"]}`, `{"t.2": "b"}`, nil, false},
		{"rename", `{"_id": 1, "a": 1, "b": 2}`, `{"$rename": {"a": "c"}}`, false,
			`{"_id": 1, "b": 2, "c": 1}`, `{"c": 1}`, []string{"a"}, false},
		{"rename missing no-op", `{"_id": 1, "b": 2}`, `{"$rename": {"a": "c"}}`, false,
			`{"_id": 1, "b": 2}`, `{}`, nil, false},
		{"setOnInsert ignored on update", `{"_id": 1}`, `{"$setOnInsert": {"a": 1}, "$set": {"b": 2}}`, false,
			`{"_id": 1, "b": 2}`, `{"b": 2}`, nil, false},
		{"setOnInsert applied on insert", `{"_id": 1}`, `{"$setOnInsert": {"a": 1}, "$set": {"b": 2}}`, true,
			`{"_id": 1, "a": 1, "b": 2}`, `{"a": 1, "b": 2}`, nil, false},
		{"upsert sets _id", `{"x": 1}`, `{"$set": {"_id": "k"}}`, true,
			`{"x": 1, "_id": "k"}`, `{"_id": "k"}`, nil, false},
		{"empty operator doc", `{"_id": 1, "a": 1}`, `{"$set": {}}`, false,
			`{"_id": 1, "a": 1}`, `{}`, nil, false},
		{"replacement keeps _id", `{"_id": 1, "a": 1}`, `{"b": 2}`, false,
			`{"_id": 1, "b": 2}`, `{}`, nil, true},
		{"replacement same _id moved first", `{"_id": 1, "a": 1}`, `{"b": 2, "_id": 1}`, false,
			`{"_id": 1, "b": 2}`, `{}`, nil, true},
		{"empty replacement", `{"_id": 1, "a": 1}`, `{}`, false,
			`{"_id": 1}`, `{}`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := j(t, tc.doc)
			before := jsc(t, doc)
			out, ch, replaced, err := ApplyUpdate(doc, j(t, tc.update), tc.insert)
			if err != nil {
				t.Fatalf("ApplyUpdate: %v", err)
			}
			if got, want := jsc(t, out), jsc(t, j(t, tc.want)); got != want {
				t.Errorf("doc = %s, want %s", got, want)
			}
			if replaced != tc.replaced {
				t.Errorf("replaced = %v, want %v", replaced, tc.replaced)
			}
			updated := ch.Updated
			if updated == nil {
				updated = bson.D{}
			}
			if got, want := jsc(t, updated), jsc(t, j(t, tc.wantUpdated)); got != want {
				t.Errorf("updated = %s, want %s", got, want)
			}
			if got, want := strings.Join(ch.Removed, ","), strings.Join(tc.wantRemoved, ","); got != want {
				t.Errorf("removed = %q, want %q", got, want)
			}
			if after := jsc(t, doc); after != before {
				t.Errorf("input document modified: %s, was %s", after, before)
			}
		})
	}
}

func TestApplyUpdateDoesNotAliasUpdate(t *testing.T) {
	upd := j(t, `{"$set": {"a": {"b": 1}}}`)
	out, _, _, err := ApplyUpdate(j(t, `{"_id": 1}`), upd, false)
	if err != nil {
		t.Fatal(err)
	}
	upd[0].Value.(bson.D)[0].Value.(bson.D)[0].Value = int32(99)
	if got := js(t, out); got != `{"_id":1,"a":{"b":1}}` {
		t.Fatalf("result changed with the update document: %s", got)
	}
}

func TestApplyUpdateCurrentDate(t *testing.T) {
	tests := []struct {
		name   string
		update string
		want   string
	}{
		{"true is a date", `{"$currentDate": {"d": true}}`, "date"},
		{"date type", `{"$currentDate": {"d": {"$type": "date"}}}`, "date"},
		{"timestamp type", `{"$currentDate": {"d": {"$type": "timestamp"}}}`, "timestamp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, ch, _, err := ApplyUpdate(j(t, `{"_id": 1}`), j(t, tc.update), false)
			if err != nil {
				t.Fatal(err)
			}
			v, ok := Lookup(out, "d")
			if !ok || bsonType(v) != tc.want {
				t.Fatalf("d = %v (%s), want a %s", v, bsonType(v), tc.want)
			}
			if len(ch.Updated) != 1 || ch.Updated[0].Key != "d" {
				t.Fatalf("updated = %v, want d", ch.Updated)
			}
		})
	}
}

func TestApplyUpdateErrors(t *testing.T) {
	tests := []struct {
		name     string
		doc      string
		update   string
		wantCode int32
		wantName string
		wantMsg  string
	}{
		{"unknown modifier", `{"_id": 1}`, `{"$foo": {"a": 1}}`, 9, "FailedToParse",
			"Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array"},
		{"operator then plain field", `{"_id": 1}`, `{"$set": {"a": 1}, "b": 2}`, 9, "FailedToParse",
			"Unknown modifier: b. Expected a valid update modifier or pipeline-style update specified as an array"},
		{"plain field then operator", `{"_id": 1}`, `{"b": 2, "$set": {"a": 1}}`, 52, "DollarPrefixedFieldName", ""},
		{"operator value not a document", `{"_id": 1}`, `{"$set": 1}`, 9, "FailedToParse", ""},
		{"set _id", `{"_id": 1}`, `{"$set": {"_id": 2}}`, 66, "ImmutableField",
			"Performing an update on the path '_id' would modify the immutable field '_id'"},
		{"unset _id", `{"_id": 1}`, `{"$unset": {"_id": 1}}`, 66, "ImmutableField", ""},
		{"set inside _id", `{"_id": {"a": 1}}`, `{"$set": {"_id.a": 2}}`, 66, "ImmutableField", ""},
		{"replacement changes _id", `{"_id": 1}`, `{"_id": 2, "a": 1}`, 66, "ImmutableField",
			"After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2"},
		{"conflict same path", `{"_id": 1}`, `{"$set": {"a": 1}, "$inc": {"a": 1}}`, 40, "ConflictingUpdateOperators", ""},
		{"conflict prefix", `{"_id": 1}`, `{"$set": {"a": 1, "a.b": 2}}`, 40, "ConflictingUpdateOperators",
			"Updating the path 'a.b' would create a conflict at 'a'"},
		{"empty field name", `{"_id": 1}`, `{"$set": {"a..b": 1}}`, 56, "EmptyFieldName", ""},
		{"set through scalar", `{"_id": 1, "a": 5}`, `{"$set": {"a.b": 1}}`, 28, "PathNotViable",
			"Cannot create field 'b' in element {a: 5}"},
		{"set named field in array", `{"_id": 1, "a": [1]}`, `{"$set": {"a.b": 1}}`, 28, "PathNotViable", ""},
		{"inc non-numeric argument", `{"_id": 1}`, `{"$inc": {"a": "x"}}`, 14, "TypeMismatch", ""},
		{"inc non-numeric field", `{"_id": 1, "a": "x"}`, `{"$inc": {"a": 1}}`, 14, "TypeMismatch",
			"Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string"},
		{"inc int64 overflow", `{"_id": 1, "a": {"$numberLong": "9223372036854775807"}}`, `{"$inc": {"a": 1}}`, 2, "BadValue", ""},
		{"push to non-array", `{"_id": 1, "a": 1}`, `{"$push": {"a": 1}}`, 2, "BadValue", ""},
		{"rename to non-string", `{"_id": 1, "a": 1}`, `{"$rename": {"a": 1}}`, 2, "BadValue", ""},
		{"rename conflicts", `{"_id": 1, "a": 1}`, `{"$rename": {"a": "b"}, "$set": {"b": 1}}`, 40, "ConflictingUpdateOperators", ""},
		{"positional unsupported", `{"_id": 1}`, `{"$set": {"a.$": 1}}`, 2, "BadValue", ""},
		{"currentDate bad type", `{"_id": 1}`, `{"$currentDate": {"a": {"$type": "x"}}}`, 2, "BadValue", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := ApplyUpdate(j(t, tc.doc), j(t, tc.update), false)
			assertError(t, err, tc.wantCode, tc.wantName, tc.wantMsg)
		})
	}
}
