package mquery

import "testing"

func TestExpressions(t *testing.T) {
	const doc = `{"_id": 1, "a": {"b": 2}, "arr": [{"x": 1}, {"y": 2}, {"x": 3}, 4], "s": "str"}`
	tests := []struct {
		name string
		expr string // the value of field "v" in an $addFields stage
		want string // relaxed JSON of the resulting field, "" when absent
	}{
		{"field path", `"$a.b"`, `2`},
		{"missing path", `"$a.zz"`, ``},
		{"path through array", `"$arr.x"`, `[1,3]`},
		{"root", `"$$ROOT.a"`, `{"b":2}`},
		{"current", `"$$CURRENT.s"`, `"str"`},
		{"remove", `"$$REMOVE"`, ``},
		{"literal dollar string", `{"$literal": "$a"}`, `"$a"`},
		{"plain string", `"hello"`, `"hello"`},
		{"number", `5`, `5`},
		{"bool", `true`, `true`},
		{"object of expressions", `{"p": "$a.b", "q": "$nope", "r": 1}`, `{"p":2,"r":1}`},
		{"array of expressions", `["$a.b", "$nope", "x"]`, `[2,null,"x"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stage := j(t, `{"$addFields": {"v": `+tc.expr+`}}`)
			out, err := Aggregate(docsOf(t, `[`+doc+`]`), []any{stage})
			if err != nil {
				t.Fatalf("Aggregate: %v", err)
			}
			v, ok := Lookup(out[0], "v")
			got := ""
			if ok {
				got = formatValue(v)
			}
			if got != tc.want {
				t.Fatalf("v = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestExpressionErrors(t *testing.T) {
	tests := []struct {
		name     string
		expr     string
		wantCode int32
	}{
		{"unknown variable", `"$$NOW"`, 17276},
		{"bare dollar", `"$"`, 16872},
		{"empty path component", `"$a..b"`, 15998},
		{"two operators", `{"$literal": 1, "$x": 2}`, 15983},
		{"unknown operator", `{"$toUpper": "$s"}`, 168},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stage := j(t, `{"$addFields": {"v": `+tc.expr+`}}`)
			_, err := Aggregate(docsOf(t, `[{"_id": 1}]`), []any{stage})
			name := "Location" + formatValue(tc.wantCode)
			if tc.wantCode == 168 {
				name = "InvalidPipelineOperator"
			}
			assertError(t, err, tc.wantCode, name, "")
		})
	}
}

func TestGroupAccumulators(t *testing.T) {
	docs := `[{"_id": 1, "g": 1, "v": "b"}, {"_id": 2, "g": 1.0, "v": "a"}, {"_id": 3, "g": {"$numberLong": "1"}}, {"_id": 4, "g": 1, "v": "b"}]`
	tests := []struct {
		name string
		acc  string
		want string
	}{
		{"first", `{"$first": "$v"}`, `"b"`},
		{"first of missing is null", `{"$first": "$nope"}`, `null`},
		{"last", `{"$last": "$v"}`, `"b"`},
		{"last of missing is null", `{"$last": "$nope"}`, `null`},
		{"min ignores missing", `{"$min": "$v"}`, `"a"`},
		{"max", `{"$max": "$v"}`, `"b"`},
		{"push skips missing", `{"$push": "$v"}`, `["b","a","b"]`},
		{"addToSet", `{"$addToSet": "$v"}`, `["b","a"]`},
		{"avg of nothing", `{"$avg": "$v"}`, `null`},
		{"sum of strings", `{"$sum": "$v"}`, `0`},
		{"sum of doubles", `{"$sum": 0.5}`, `2.0`},
		{"count", `{"$count": {}}`, `4`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stage := j(t, `{"$group": {"_id": "$g", "r": `+tc.acc+`}}`)
			out, err := Aggregate(docsOf(t, docs), []any{stage})
			if err != nil {
				t.Fatalf("Aggregate: %v", err)
			}
			if len(out) != 1 {
				t.Fatalf("groups = %d (%v), want 1: numeric keys of all types are one group", len(out), out)
			}
			v, _ := Lookup(out[0], "r")
			if got := formatValue(v); got != tc.want {
				t.Fatalf("r = %s, want %s", got, tc.want)
			}
		})
	}
}
