package bsonvalue

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func mustRaw(t *testing.T, d bson.D) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAt(t *testing.T) {
	doc := mustRaw(t, bson.D{
		{Key: "a", Value: bson.D{{Key: "b", Value: "x"}}},
		{Key: "tags", Value: bson.A{"t0", bson.D{{Key: "k", Value: int32(1)}}}},
		{Key: "n", Value: int32(3)},
	})
	root := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: doc}
	cases := []struct {
		path  string
		found bool
		want  any
	}{
		{"a.b", true, "x"},
		{"a", true, map[string]any{"b": "x"}},
		{"tags.0", true, "t0"},
		{"tags.1.k", true, int64(1)},
		{"tags.01", false, nil}, // no leading zeros
		{"tags.k", false, nil},  // a field name on an array
		{"tags.9", false, nil},
		{"n.x", false, nil}, // below a scalar
		{"missing", false, nil},
	}
	for _, c := range cases {
		v, ok := At(root, c.path)
		if ok != c.found {
			t.Errorf("At(%q) found = %v, want %v", c.path, ok, c.found)
			continue
		}
		if !ok {
			continue
		}
		got, err := Plain(v)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("At(%q) = %#v (%v), want %#v", c.path, got, err, c.want)
		}
	}
}

func TestPlain(t *testing.T) {
	when := time.Date(2020, 2, 3, 4, 5, 6, 7_000_000, time.UTC)
	dec, err := bson.ParseDecimal128("12.50")
	if err != nil {
		t.Fatal(err)
	}
	oid, err := bson.ObjectIDFromHex("65a1b2c3d4e5f60718293a4b")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      any
		want    any
		wantErr bool
	}{
		{"null", nil, nil, false},
		{"bool", true, true, false},
		{"int32", int32(-3), int64(-3), false},
		{"int64", int64(1) << 40, int64(1) << 40, false},
		{"double", 2.5, 2.5, false},
		{"string", "s", "s", false},
		{"symbol", bson.Symbol("sym"), "sym", false},
		{"ObjectID", oid, oid.Hex(), false},
		{"decimal128", dec, "12.50", false},
		{"datetime", bson.NewDateTimeFromTime(when), when, false},
		{"timestamp", bson.Timestamp{T: 1_600_000_000, I: 9}, time.Unix(1_600_000_000, 0).UTC(), false},
		{"binary", bson.Binary{Subtype: 0, Data: []byte{1, 2}}, []byte{1, 2}, false},
		{"document", bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: int32(1)}}}},
			map[string]any{"a": map[string]any{"b": int64(1)}}, false},
		{"array", bson.A{"x", bson.A{int32(1)}, nil}, []any{"x", []any{int64(1)}, nil}, false},
		{"regex", bson.Regex{Pattern: "a"}, nil, true},
		{"javascript", bson.JavaScript("f()"), nil, true},
		{"minkey", bson.MinKey{}, nil, true},
		{"dbpointer", bson.DBPointer{DB: "d", Pointer: oid}, nil, true},
		{"regex nested in document", bson.D{{Key: "r", Value: bson.Regex{Pattern: "a"}}}, nil, true},
		{"regex nested in array", bson.A{bson.MaxKey{}}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := mustRaw(t, bson.D{{Key: "v", Value: tc.in}})
			got, err := Plain(raw.Lookup("v"))
			if tc.wantErr {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("err = %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestPlainNamesTheNestedPath(t *testing.T) {
	raw := mustRaw(t, bson.D{{Key: "v", Value: bson.D{{Key: "inner", Value: bson.A{int32(1), bson.Regex{Pattern: "x"}}}}}})
	_, err := Plain(raw.Lookup("v"))
	if err == nil || err.Error() != "inner: 1: value cannot be copied to Firestore: BSON type regex" {
		t.Fatalf("err = %v", err)
	}
}

func TestFirestore(t *testing.T) {
	oid, err := bson.ObjectIDFromHex("65a1b2c3d4e5f60718293a4b")
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	nanos := time.Date(2025, 1, 2, 3, 4, 5, 6_000_007, time.UTC)
	dec, err := bson.ParseDecimal128("12.50")
	if err != nil {
		t.Fatal(err)
	}
	raw := mustRaw(t, bson.D{{Key: "a", Value: int32(1)}})
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"bson null", bson.Null{}, nil},
		{"string", "x", "x"},
		{"bool", true, true},
		{"int32", int32(7), int64(7)},
		{"int", 7, int64(7)},
		{"int64", int64(7), int64(7)},
		{"double", 1.5, 1.5},
		{"float32", float32(0.5), 0.5},
		{"time keeps its precision", nanos, nanos},
		{"object id", oid, "65a1b2c3d4e5f60718293a4b"},
		{"datetime", bson.NewDateTimeFromTime(when), when},
		{"timestamp", bson.Timestamp{T: 1700000000, I: 3}, time.Unix(1700000000, 0).UTC()},
		{"decimal", dec, "12.50"},
		{"binary", bson.Binary{Subtype: 0, Data: []byte{1, 2}}, []byte{1, 2}},
		{"document", bson.D{{Key: "id", Value: oid}, {Key: "n", Value: int32(1)}},
			map[string]any{"id": oid.Hex(), "n": int64(1)}},
		{"map", bson.M{"n": int32(2)}, map[string]any{"n": int64(2)}},
		{"plain map", map[string]any{"d": bson.NewDateTimeFromTime(when)}, map[string]any{"d": when}},
		{"array", bson.A{int32(1), bson.D{{Key: "k", Value: "v"}}, nil},
			[]any{int64(1), map[string]any{"k": "v"}, nil}},
		{"raw document", raw, map[string]any{"a": int64(1)}},
		{"raw value", raw.Lookup("a"), int64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Firestore(tt.in)
			if err != nil {
				t.Fatalf("Firestore(%#v): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Firestore(%#v) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFirestoreRejectsUnsupported(t *testing.T) {
	for _, in := range []any{bson.MinKey{}, bson.D{{Key: "k", Value: bson.MaxKey{}}}, struct{}{}, []any{bson.Regex{}}, uint8(1)} {
		if got, err := Firestore(in); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Firestore(%#v) = %#v, %v; want an ErrUnsupported error", in, got, err)
		}
	}
}
