package mquery

import (
	"testing"
)

func TestSort(t *testing.T) {
	tests := []struct {
		name    string
		docs    string
		spec    string
		wantIDs string
	}{
		{"ascending numbers mixed types", `[{"_id": 1, "a": 2.5}, {"_id": 2, "a": {"$numberLong": "1"}}, {"_id": 3, "a": 3}]`, `{"a": 1}`, `[2, 1, 3]`},
		{"descending", `[{"_id": 1, "a": 2.5}, {"_id": 2, "a": 1}, {"_id": 3, "a": 3}]`, `{"a": -1}`, `[3, 1, 2]`},
		{"missing sorts as null, before numbers", `[{"_id": 1, "a": 1}, {"_id": 2}, {"_id": 3, "a": null}]`, `{"a": 1}`, `[2, 3, 1]`},
		{"type order", `[{"_id": 1, "a": true}, {"_id": 2, "a": "s"}, {"_id": 3, "a": 5}, {"_id": 4, "a": {"x": 1}}, {"_id": 5, "a": {"$minKey": 1}}, {"_id": 6, "a": {"$oid": "5f1d7f5e1c9d440000a1b2c3"}}]`,
			`{"a": 1}`, `[5, 3, 2, 4, 6, 1]`},
		{"stable on ties", `[{"_id": 1, "a": 1}, {"_id": 2, "a": 1}, {"_id": 3, "a": 0}, {"_id": 4, "a": 1}]`, `{"a": 1}`, `[3, 1, 2, 4]`},
		{"multi key", `[{"_id": 1, "a": 1, "b": 1}, {"_id": 2, "a": 1, "b": 2}, {"_id": 3, "a": 0, "b": 0}]`, `{"a": 1, "b": -1}`, `[3, 2, 1]`},
		{"array ascending uses min", `[{"_id": 1, "a": [5, 0]}, {"_id": 2, "a": 1}, {"_id": 3, "a": [2, 3]}]`, `{"a": 1}`, `[1, 2, 3]`},
		{"array descending uses max", `[{"_id": 1, "a": [5, 0]}, {"_id": 2, "a": 6}, {"_id": 3, "a": [2, 3]}]`, `{"a": -1}`, `[2, 1, 3]`},
		{"empty array before null", `[{"_id": 1, "a": null}, {"_id": 2, "a": []}, {"_id": 3, "a": 0}]`, `{"a": 1}`, `[2, 1, 3]`},
		{"dotted through array of docs", `[{"_id": 1, "a": [{"b": 9}, {"b": 4}]}, {"_id": 2, "a": [{"b": 5}]}]`, `{"a.b": 1}`, `[1, 2]`},
		{"dotted path", `[{"_id": 1, "a": {"b": "z"}}, {"_id": 2, "a": {"b": "y"}}]`, `{"a.b": 1}`, `[2, 1]`},
		{"empty spec keeps order", `[{"_id": 2}, {"_id": 1}]`, `{}`, `[2, 1]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs := docsOf(t, tc.docs)
			if err := Sort(docs, j(t, tc.spec)); err != nil {
				t.Fatalf("Sort: %v", err)
			}
			var ids []any
			for _, d := range docs {
				id, _ := Lookup(d, "_id")
				ids = append(ids, id)
			}
			if got, want := formatValue(ids), formatValue(ja(t, tc.wantIDs)); got != want {
				t.Fatalf("order = %s, want %s", got, want)
			}
		})
	}
}

func TestSortErrors(t *testing.T) {
	tests := []struct {
		name     string
		spec     string
		wantCode int32
	}{
		{"bad direction", `{"a": 0}`, 15975},
		{"string direction", `{"a": "asc"}`, 15974},
		{"$meta unsupported", `{"a": {"$meta": "textScore"}}`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Sort(docsOf(t, `[{"_id": 1}]`), j(t, tc.spec))
			var name string
			switch tc.wantCode {
			case 2:
				name = "BadValue"
			default:
				name = "Location" + formatValue(tc.wantCode)
			}
			assertError(t, err, tc.wantCode, name, "")
		})
	}
}
