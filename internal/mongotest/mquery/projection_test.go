package mquery

import "testing"

func TestProject(t *testing.T) {
	const doc = `{"_id": 1, "a": 1, "b": {"c": 2, "d": 3}, "e": [{"c": 4, "d": 5}, 6, [{"c": 7}]], "f": "x"}`
	tests := []struct {
		name string
		doc  string
		proj string
		want string
	}{
		{"empty projection", doc, `{}`, doc},
		{"include one, _id by default", doc, `{"a": 1}`, `{"_id": 1, "a": 1}`},
		{"include keeps document order", doc, `{"f": 1, "a": true}`, `{"_id": 1, "a": 1, "f": "x"}`},
		{"include without _id", doc, `{"a": 1, "_id": 0}`, `{"a": 1}`},
		{"only _id", doc, `{"_id": 1}`, `{"_id": 1}`},
		{"only _id excluded", doc, `{"_id": 0}`, `{"a": 1, "b": {"c": 2, "d": 3}, "e": [{"c": 4, "d": 5}, 6, [{"c": 7}]], "f": "x"}`},
		{"include dotted", doc, `{"b.c": 1}`, `{"_id": 1, "b": {"c": 2}}`},
		{"include nested spec", doc, `{"b": {"d": 1}}`, `{"_id": 1, "b": {"d": 3}}`},
		{"include dotted through array", doc, `{"e.c": 1, "_id": 0}`, `{"e": [{"c": 4}, [{"c": 7}]]}`},
		{"include dotted missing subfield gives empty doc", doc, `{"b.z": 1, "_id": 0}`, `{"b": {}}`},
		{"include dotted through scalar drops it", doc, `{"a.z": 1, "_id": 0}`, `{}`},
		{"include missing field", doc, `{"zz": 1}`, `{"_id": 1}`},
		{"nonzero number includes", doc, `{"a": 2.5}`, `{"_id": 1, "a": 1}`},
		{"exclude one", doc, `{"b": 0, "e": 0}`, `{"_id": 1, "a": 1, "f": "x"}`},
		{"exclude with _id", doc, `{"b": 0, "e": false, "_id": 0, "a": 0}`, `{"f": "x"}`},
		{"exclude dotted", doc, `{"b.c": 0, "e": 0}`, `{"_id": 1, "a": 1, "b": {"d": 3}, "f": "x"}`},
		{"exclude dotted through array", doc, `{"e.c": 0, "b": 0}`, `{"_id": 1, "a": 1, "e": [{"d": 5}, 6, [{}]], "f": "x"}`},
		{"computed field path", doc, `{"x": "$b.c", "a": 1}`, `{"_id": 1, "a": 1, "x": 2}`},
		{"computed missing path omitted", doc, `{"x": "$nope", "a": 1}`, `{"_id": 1, "a": 1}`},
		{"computed literal", doc, `{"x": {"$literal": 1}, "_id": 0}`, `{"x": 1}`},
		{"computed string literal", doc, `{"x": "lit", "_id": 0}`, `{"x": "lit"}`},
		{"computed array path", doc, `{"x": "$e.c", "_id": 0}`, `{"x": [4, [7]]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := j(t, tc.doc)
			before := jsc(t, in)
			got, err := Project(in, j(t, tc.proj))
			if err != nil {
				t.Fatalf("Project: %v", err)
			}
			if g, w := jsc(t, got), jsc(t, j(t, tc.want)); g != w {
				t.Fatalf("Project = %s, want %s", g, w)
			}
			if jsc(t, in) != before {
				t.Fatalf("input modified")
			}
		})
	}
}

func TestProjectErrors(t *testing.T) {
	tests := []struct {
		name     string
		proj     string
		wantCode int32
		wantName string
		wantMsg  string
	}{
		{"exclusion in inclusion", `{"a": 1, "b": 0}`, 31254, "Location31254", "Cannot do exclusion on field b in inclusion projection"},
		{"inclusion in exclusion", `{"a": 0, "b": 1}`, 31253, "Location31253", "Cannot do inclusion on field b in exclusion projection"},
		{"computed in exclusion", `{"a": 0, "b": "$a"}`, 31252, "Location31252", ""},
		{"path collision", `{"a": 1, "a.b": 1}`, 31250, "Location31250", ""},
		{"path collision reversed", `{"a.b": 1, "a": 1}`, 31250, "Location31250", ""},
		{"$slice unsupported", `{"a": {"$slice": 1}}`, 2, "BadValue", ""},
		{"$elemMatch unsupported", `{"a": {"$elemMatch": {"b": 1}}}`, 2, "BadValue", ""},
		{"positional unsupported", `{"a.$": 1}`, 2, "BadValue", ""},
		{"unknown expression", `{"a": {"$foo": 1}}`, 168, "InvalidPipelineOperator", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Project(j(t, `{"_id": 1, "a": 1}`), j(t, tc.proj))
			assertError(t, err, tc.wantCode, tc.wantName, tc.wantMsg)
		})
	}
}
