package mquery

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// j parses relaxed extended JSON into a document: 1 is int32, 3000000000 is
// int64, 1.5 is a double; {"$numberLong": "1"}, {"$oid": ...} and the other
// canonical wrappers give the other BSON types.
func j(t *testing.T, s string) bson.D {
	t.Helper()
	var doc bson.D
	if err := bson.UnmarshalExtJSON([]byte(s), false, &doc); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return doc
}

// ja parses a JSON array (wrapped in a document to reuse the parser).
func ja(t *testing.T, s string) bson.A {
	t.Helper()
	arr, ok := j(t, `{"x": `+s+`}`)[0].Value.(bson.A)
	if !ok {
		t.Fatalf("bad test JSON array %s", s)
	}
	return arr
}

// js renders a document as relaxed extended JSON for comparisons in tests.
func js(t *testing.T, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(v, false, false)
	if err != nil {
		t.Fatalf("MarshalExtJSON(%v): %v", v, err)
	}
	return string(b)
}

// jsc renders canonical extended JSON, which keeps the numeric types apart.
func jsc(t *testing.T, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(v, true, false)
	if err != nil {
		t.Fatalf("MarshalExtJSON(%v): %v", v, err)
	}
	return string(b)
}

// assertError checks that err is an *Error with the given code and name, and
// the given message when msg is not empty.
func assertError(t *testing.T, err error, code int32, name, msg string) {
	t.Helper()
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("error = %v (%T), want *Error code %d", err, err, code)
	}
	if me.Code != code || me.CodeName != name {
		t.Fatalf("error = %d %s (%q), want %d %s", me.Code, me.CodeName, me.Msg, code, name)
	}
	if msg != "" && me.Msg != msg {
		t.Fatalf("message = %q, want %q", me.Msg, msg)
	}
}
