package mquery

import (
	"math"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestCompareTypeOrder(t *testing.T) {
	// One value of each type bracket, in MongoDB's ascending order.
	ordered := []any{
		bson.MinKey{},
		nil,
		int32(-5),
		"a string",
		bson.D{{Key: "a", Value: 1}},
		bson.A{int32(1)},
		bson.Binary{Data: []byte{1}},
		bson.ObjectID{1},
		false,
		bson.DateTime(0),
		bson.Timestamp{T: 1},
		bson.Regex{Pattern: "a"},
		bson.MaxKey{},
	}
	for i := range ordered {
		for k := range ordered {
			want := 0
			switch {
			case i < k:
				want = -1
			case i > k:
				want = 1
			}
			if got := Compare(ordered[i], ordered[k]); got != want {
				t.Errorf("Compare(%v, %v) = %d, want %d", ordered[i], ordered[k], got, want)
			}
		}
	}
}

func TestCompare(t *testing.T) {
	dec := func(s string) bson.Decimal128 {
		d, err := bson.ParseDecimal128(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name string
		a, b any
		want int
	}{
		{"int32 vs double equal", int32(1), 1.0, 0},
		{"int64 vs int32", int64(2), int32(3), -1},
		{"double vs int64", 2.5, int64(2), 1},
		{"int64 beyond double precision", int64(1<<53 + 1), float64(1 << 53), 1},
		{"decimal vs double", dec("0.1"), 0.1, -1}, // 0.1 as a double is slightly above 1/10
		{"decimal vs int", dec("2.50"), int32(2), 1},
		{"decimal equal int", dec("2.000"), int64(2), 0},
		{"NaN below numbers", math.NaN(), math.Inf(-1), -1},
		{"NaN equals NaN", math.NaN(), math.NaN(), 0},
		{"decimal NaN equals double NaN", dec("NaN"), math.NaN(), 0},
		{"infinity above int64", math.Inf(1), int64(math.MaxInt64), 1},
		{"null equals nil", bson.Null{}, nil, 0},
		{"undefined below null", bson.Undefined{}, nil, -1},
		{"strings bytewise", "B", "a", -1},
		{"symbol equals string", bson.Symbol("x"), "x", 0},
		{"string prefix first", "ab", "abc", -1},
		{"doc field value type first", bson.D{{Key: "a", Value: "x"}}, bson.D{{Key: "a", Value: int32(1)}}, 1},
		{"doc field name", bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "b", Value: int32(1)}}, -1},
		{"doc numeric value", bson.D{{Key: "a", Value: int32(2)}}, bson.D{{Key: "a", Value: 1.5}}, 1},
		{"doc prefix first", bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(0)}}, -1},
		{"empty doc first", bson.D{}, bson.D{{Key: "a", Value: nil}}, -1},
		{"array elementwise", bson.A{int32(1), int32(3)}, bson.A{int32(1), int32(2), int32(9)}, 1},
		{"array prefix first", bson.A{int32(1)}, bson.A{int32(1), int32(2)}, -1},
		{"binary length first", bson.Binary{Data: []byte{9}}, bson.Binary{Data: []byte{1, 1}}, -1},
		{"binary subtype second", bson.Binary{Subtype: 4, Data: []byte{1}}, bson.Binary{Subtype: 0, Data: []byte{2}}, 1},
		{"objectid bytes", bson.ObjectID{0, 1}, bson.ObjectID{0, 2}, -1},
		{"false before true", false, true, -1},
		{"dates", bson.DateTime(-1), bson.DateTime(1), -1},
		{"timestamps by seconds then increment", bson.Timestamp{T: 2, I: 1}, bson.Timestamp{T: 1, I: 9}, 1},
		{"regex pattern then options", bson.Regex{Pattern: "a", Options: "i"}, bson.Regex{Pattern: "a"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Compare(tc.a, tc.b); got != tc.want {
				t.Fatalf("Compare(%v, %v) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
			if got := Compare(tc.b, tc.a); got != -tc.want {
				t.Fatalf("Compare(%v, %v) = %d, want %d (antisymmetry)", tc.b, tc.a, got, -tc.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	doc := j(t, `{"a": {"b": {"c": 1}}, "arr": [{"x": 1}, {"x": 2}], "n": null}`)
	tests := []struct {
		path   string
		want   string
		wantOK bool
	}{
		{"a.b.c", `1`, true},
		{"a.b", `{"c":1}`, true},
		{"arr.1.x", `2`, true},
		{"n", `null`, true},
		{"a.z", ``, false},
		{"a.b.c.d", ``, false},
		{"arr.x", ``, false},
		{"arr.5", ``, false},
		{"arr.01", ``, false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			v, ok := Lookup(doc, tc.path)
			if ok != tc.wantOK {
				t.Fatalf("Lookup(%q) ok = %v, want %v", tc.path, ok, tc.wantOK)
			}
			if ok && formatValue(v) != tc.want {
				t.Fatalf("Lookup(%q) = %s, want %s", tc.path, formatValue(v), tc.want)
			}
		})
	}
}
