package mquery

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestDiffUpdateDescribesAsTheServer(t *testing.T) {
	tests := []struct {
		name, pre, post        string
		wantUpdated, wantTrunc string
		wantRemoved            []string
		wantDisambiguated      string
	}{
		{"field set", `{"_id": 1, "a": 1}`, `{"_id": 1, "a": 2}`, `{"a": 2}`, `[]`, nil, `{}`},
		{"field added and removed", `{"_id": 1, "a": 1, "b": 1}`, `{"_id": 1, "a": 1, "c": 3}`, `{"c": 3}`, `[]`, []string{"b"}, `{}`},
		{"nested change is a sub-diff", `{"_id": 1, "s": {"x": 1, "y": "a long enough string to keep"}}`, `{"_id": 1, "s": {"x": 2, "y": "a long enough string to keep"}}`,
			`{"s.x": 2}`, `[]`, nil, `{}`},
		// the spec test's case: an array shortened and its element 1 a sub-diff
		{"array truncated", `{"_id": 1, "array": ["foo", {"a": "bar"}, 1, 2, 3]}`, `{"_id": 1, "array": ["foo", {"a": "bar"}]}`,
			`{}`, `[{"field": "array", "newSize": 2}]`, nil, `{}`},
		{"array element changed", `{"_id": 1, "arr": [1, 2, 3, 4, 5, 6]}`, `{"_id": 1, "arr": [1, 2, 9, 4, 5, 6]}`,
			`{"arr.2": 9}`, `[]`, nil, `{}`},
		{"a field named with a dot", `{"_id": 1, "a.b": 1, "a": {"b": 5}}`, `{"_id": 1, "a.b": 2, "a": {"b": 5}}`,
			`{"a.b": 2}`, `[]`, nil, `{"a.b": ["a.b"]}`},
		{"a numeric field name inside a document", `{"_id": 1, "a": {"1": 1, "k": "keep this one as it is"}}`, `{"_id": 1, "a": {"1": 2, "k": "keep this one as it is"}}`,
			`{"a.1": 2}`, `[]`, nil, `{"a.1": ["a", "1"]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, ok := DiffUpdate(j(t, tc.pre), j(t, tc.post))
			if !ok {
				t.Fatal("diff reported as a replacement")
			}
			if got, want := js(t, orEmpty(ch.Updated)), js(t, j(t, tc.wantUpdated)); got != want {
				t.Errorf("updated = %s, want %s", got, want)
			}
			if got, want := strings.Join(ch.Removed, ","), strings.Join(tc.wantRemoved, ","); got != want {
				t.Errorf("removed = %q, want %q", got, want)
			}
			trunc := bson.A{}
			for _, tr := range ch.Truncated {
				trunc = append(trunc, bson.D{{Key: "field", Value: tr.Field}, {Key: "newSize", Value: tr.NewSize}})
			}
			if got, want := js(t, bson.D{{Key: "t", Value: trunc}}), js(t, bson.D{{Key: "t", Value: ja(t, tc.wantTrunc)}}); got != want {
				t.Errorf("truncated = %s, want %s", got, want)
			}
			if got, want := js(t, orEmpty(ch.Disambiguated)), js(t, j(t, tc.wantDisambiguated)); got != want {
				t.Errorf("disambiguated = %s, want %s", got, want)
			}
		})
	}
}

func TestDiffUpdateLargerThanTheDocumentIsAReplacement(t *testing.T) {
	// every field changes: the diff is larger than the new document
	if _, ok := DiffUpdate(j(t, `{"_id": 1, "a": 1, "b": 2}`), j(t, `{"_id": 2, "c": 3}`)); ok {
		t.Error("a diff larger than the document was not reported as a replacement")
	}
}

func TestApplyUpdateDisambiguatesNumericFieldNames(t *testing.T) {
	tests := []struct{ doc, update, want string }{
		{`{"_id": 1, "a": {"1": 1}}`, `{"$set": {"a.1": 2}}`, `{"a.1": ["a", "1"]}`},
		{`{"_id": 1, "a": [{"1": 1}]}`, `{"$set": {"a.0.1": 2}}`, `{"a.0.1": ["a", {"$numberInt": "0"}, "1"]}`},
		{`{"_id": 1, "a": [1, 2]}`, `{"$set": {"a.1": 5}}`, `{}`}, // an array index alone is not ambiguous
		{`{"_id": 1, "1": 1}`, `{"$set": {"1": 2}}`, `{}`},        // nor a numeric name at the top
	}
	for _, tc := range tests {
		_, ch, _, err := ApplyUpdate(j(t, tc.doc), j(t, tc.update), false)
		if err != nil {
			t.Fatalf("%s: %v", tc.update, err)
		}
		if got, want := jsc(t, orEmpty(ch.Disambiguated)), jsc(t, j(t, tc.want)); got != want {
			t.Errorf("%s on %s: disambiguated = %s, want %s", tc.update, tc.doc, got, want)
		}
	}
}

func TestReplaceRootAndSetField(t *testing.T) {
	docs := []bson.D{j(t, `{"_id": 1, "t": {"u": 1}, "x": 2}`)}
	out, err := Aggregate(docs, ja(t, `[{"$replaceRoot": {"newRoot": "$t"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, out[0]); got != `{"u":1}` {
		t.Errorf("$replaceRoot = %s", got)
	}
	out, err = Aggregate(docs, ja(t, `[{"$replaceWith": {"$setField": {"field": "a.b", "input": "$$ROOT", "value": 7}}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, out[0]); got != `{"_id":1,"t":{"u":1},"x":2,"a.b":7}` {
		t.Errorf("$setField = %s", got)
	}
	if _, err := Aggregate(docs, ja(t, `[{"$replaceWith": "$x"}]`)); err == nil {
		t.Error("$replaceWith of a number: no error")
	} else {
		assertError(t, err, 40228, "Location40228", "")
	}
	if _, err := Aggregate(docs, ja(t, `[{"$nope": {}}]`)); err == nil {
		t.Error("an unknown stage: no error")
	} else {
		assertError(t, err, 40324, "Location40324", "")
	}
}

func orEmpty(d bson.D) bson.D {
	if d == nil {
		return bson.D{}
	}
	return d
}
