package sync

import (
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestFirestoreValue(t *testing.T) {
	oid, err := bson.ObjectIDFromHex("65a1b2c3d4e5f60718293a4b")
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	dec, err := bson.ParseDecimal128("12.50")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := bson.Marshal(bson.D{{Key: "a", Value: int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
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
		{"object id", oid, "65a1b2c3d4e5f60718293a4b"},
		{"datetime", bson.NewDateTimeFromTime(when), when},
		{"timestamp", bson.Timestamp{T: 1700000000, I: 3}, time.Unix(1700000000, 0).UTC()},
		{"decimal", dec, "12.50"},
		{"binary", bson.Binary{Subtype: 0, Data: []byte{1, 2}}, []byte{1, 2}},
		{"document", bson.D{{Key: "id", Value: oid}, {Key: "n", Value: int32(1)}},
			map[string]any{"id": oid.Hex(), "n": int64(1)}},
		{"map", bson.M{"n": int32(2)}, map[string]any{"n": int64(2)}},
		{"array", bson.A{int32(1), bson.D{{Key: "k", Value: "v"}}, nil},
			[]any{int64(1), map[string]any{"k": "v"}, nil}},
		{"raw document", bson.Raw(raw), map[string]any{"a": int64(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := firestoreValue(tt.in)
			if err != nil {
				t.Fatalf("firestoreValue(%#v): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("firestoreValue(%#v) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFirestoreValueRejectsUnsupported(t *testing.T) {
	for _, in := range []any{bson.MinKey{}, bson.D{{Key: "k", Value: bson.MaxKey{}}}, struct{}{}} {
		if got, err := firestoreValue(in); err == nil {
			t.Errorf("firestoreValue(%#v) = %#v, want an error", in, got)
		}
	}
}
