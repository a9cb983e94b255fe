package reconcile

import (
	"bytes"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// sameValue reports whether a value read from Firestore equals a MongoDB
// value after bsonvalue.Plain. bsonvalue.Plain already yields the form the
// applier writes (nil, bool, int64, float64, string, []byte, time.Time in
// UTC, map[string]any, []any: fssync's conversion leaves these as they
// are), so the comparison is structural, with times compared as instants
// (Firestore returns them in the local zone) and NaN equal to NaN.
func sameValue(stored, want any) bool {
	switch w := want.(type) {
	case nil:
		return stored == nil
	case bool, int64, string:
		return stored == want
	case float64:
		s, ok := stored.(float64)
		return ok && (s == w || (math.IsNaN(s) && math.IsNaN(w)))
	case []byte:
		s, ok := stored.([]byte)
		return ok && bytes.Equal(s, w)
	case time.Time:
		s, ok := stored.(time.Time)
		return ok && s.Equal(w)
	case map[string]any:
		s, ok := stored.(map[string]any)
		if !ok || len(s) != len(w) {
			return false
		}
		for k, wv := range w {
			sv, present := s[k]
			if !present || !sameValue(sv, wv) {
				return false
			}
		}
		return true
	case []any:
		s, ok := stored.([]any)
		if !ok || len(s) != len(w) {
			return false
		}
		for i := range w {
			if !sameValue(s[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return false // a type bsonvalue.Plain never yields: rewrite it
	}
}

// idForms returns the _id values that a project id stored in Firestore may
// stand for: the string itself, and the ObjectID whose hex form it is (the
// watcher writes ObjectIDs as 24-char lowercase hex).
func idForms(projectID string) []any {
	if oid, err := bson.ObjectIDFromHex(projectID); err == nil && oid.Hex() == projectID {
		return []any{oid, projectID}
	}
	return []any{projectID}
}

// projectID renders a MongoDB _id as the id the assets carry: an ObjectID
// as its hex, a string as it is; ok is false for any other type.
func projectID(v bson.RawValue) (string, bool) {
	switch v.Type {
	case bson.TypeObjectID:
		oid, ok := v.ObjectIDOK()
		return oid.Hex(), ok
	case bson.TypeString:
		s, ok := v.StringValueOK()
		return s, ok && s != ""
	}
	return "", false
}
