package watchertest

import (
	"strconv"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// OID is an ObjectID for tests; OIDHex is its 24-hex form.
var OID = bson.ObjectID{0x65, 0x0f, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81, 0x92, 0xa3}

// OIDHex is OID.Hex().
const OIDHex = "650f1a2b3c4d5e6f708192a3"

// Raw marshals v to a BSON document; it fails the test when v cannot be
// marshalled.
func Raw(t testing.TB, v any) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return b
}

// RawArray marshals v as a BSON array (a document keyed "0", "1", …).
func RawArray(t testing.TB, v bson.A) bson.Raw {
	t.Helper()
	d := bson.D{}
	for i, x := range v {
		d = append(d, bson.E{Key: strconv.Itoa(i), Value: x})
	}
	return Raw(t, d)
}

// DocKey is the documentKey {_id: id}.
func DocKey(t testing.TB, id any) bson.Raw {
	t.Helper()
	return Raw(t, bson.D{{Key: "_id", Value: id}})
}

// IDValue is id as the raw _id value a change carries.
func IDValue(t testing.TB, id any) bson.RawValue {
	t.Helper()
	return DocKey(t, id).Lookup("_id")
}

// Token is a resume token {_data: data}.
func Token(data string) bson.Raw {
	b, err := bson.Marshal(bson.D{{Key: "_data", Value: data}})
	if err != nil {
		panic(err) // a string field always marshals
	}
	return b
}
