package watchertest

import (
	"fmt"
	"strconv"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// OID is an ObjectID for tests; OIDHex is its 24-hex form.
var OID = bson.ObjectID{0x65, 0x0f, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81, 0x92, 0xa3}

// OIDHex is OID.Hex().
const OIDHex = "650f1a2b3c4d5e6f708192a3"

// Raw marshals v to a BSON document; it fails the test when v cannot be
// marshalled (it panics with a nil t, for table literals).
func Raw(t testing.TB, v any) bson.Raw {
	b, err := bson.Marshal(v)
	if err != nil {
		if t == nil {
			panic(fmt.Sprintf("marshal %v: %v", v, err))
		}
		t.Helper()
		t.Fatalf("marshal %v: %v", v, err)
	}
	return b
}

// RawArray marshals v as a BSON array (a document keyed "0", "1", …); t
// may be nil, as for Raw.
func RawArray(t testing.TB, v bson.A) bson.Raw {
	d := bson.D{}
	for i, x := range v {
		d = append(d, bson.E{Key: strconv.Itoa(i), Value: x})
	}
	return Raw(t, d)
}

// DocKey is the documentKey {_id: id} (id of a type BSON can hold).
func DocKey(id any) bson.Raw { return Raw(nil, bson.D{{Key: "_id", Value: id}}) }

// IDValue is id as the raw _id value a change carries.
func IDValue(id any) bson.RawValue { return DocKey(id).Lookup("_id") }

// Token is a resume token {_data: data}.
func Token(data string) bson.Raw { return Raw(nil, bson.D{{Key: "_data", Value: data}}) }
