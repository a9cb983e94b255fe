package bsonvalue

import (
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrUnsupported marks a value Firestore cannot hold faithfully (regex,
// JavaScript, DBPointer, min/max key, …) or that is not valid BSON.
var ErrUnsupported = errors.New("value cannot be copied to Firestore")

// Plain converts a BSON value into the plain Go value written to
// Firestore: null and undefined → nil; bool; int32 and int64 → int64;
// double → float64; string and symbol → string; ObjectID → its hex string;
// decimal128 → its string form; datetime → time.Time (UTC); timestamp →
// time.Time of its seconds; binary → []byte; document → map[string]any;
// array → []any. Other types are an error wrapping ErrUnsupported that
// names the type (and the path below v where it sits).
func Plain(v bson.RawValue) (any, error) {
	switch v.Type {
	case bson.TypeNull, bson.TypeUndefined:
		return nil, nil
	case bson.TypeEmbeddedDocument:
		return plainDocument(v)
	case bson.TypeArray:
		return plainArray(v)
	}
	if x, known, ok := plainScalar(v); known {
		if ok {
			return x, nil
		}
		return nil, fmt.Errorf("%w: bad %s value", ErrUnsupported, v.Type)
	}
	return nil, fmt.Errorf("%w: BSON type %s", ErrUnsupported, v.Type)
}

// plainScalar converts the scalar types Firestore can hold; known is false
// for any other type, ok false for bytes that do not decode.
func plainScalar(v bson.RawValue) (x any, known, ok bool) {
	switch v.Type {
	case bson.TypeBoolean:
		x, ok = v.BooleanOK()
	case bson.TypeInt32:
		var n int32
		n, ok = v.Int32OK()
		x = int64(n)
	case bson.TypeInt64:
		x, ok = v.Int64OK()
	case bson.TypeDouble:
		x, ok = v.DoubleOK()
	case bson.TypeString:
		x, ok = v.StringValueOK()
	case bson.TypeSymbol:
		x, ok = v.SymbolOK()
	case bson.TypeObjectID:
		var oid bson.ObjectID
		oid, ok = v.ObjectIDOK()
		x = oid.Hex()
	case bson.TypeDecimal128:
		var d bson.Decimal128
		d, ok = v.Decimal128OK()
		x = d.String()
	case bson.TypeDateTime:
		var ms int64
		ms, ok = v.DateTimeOK()
		x = time.UnixMilli(ms).UTC()
	case bson.TypeTimestamp:
		var t uint32
		t, _, ok = v.TimestampOK()
		x = time.Unix(int64(t), 0).UTC()
	case bson.TypeBinary:
		var data []byte
		_, data, ok = v.BinaryOK()
		x = append([]byte(nil), data...)
	default:
		return nil, false, false
	}
	return x, true, ok
}

func plainDocument(v bson.RawValue) (any, error) {
	doc, ok := v.DocumentOK()
	if !ok {
		return nil, fmt.Errorf("%w: bad document", ErrUnsupported)
	}
	elems, err := doc.Elements()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	m := make(map[string]any, len(elems))
	for _, el := range elems {
		pv, err := Plain(el.Value())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", el.Key(), err)
		}
		m[el.Key()] = pv
	}
	return m, nil
}

func plainArray(v bson.RawValue) (any, error) {
	arr, ok := v.ArrayOK()
	if !ok {
		return nil, fmt.Errorf("%w: bad array", ErrUnsupported)
	}
	vals, err := arr.Values()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	out := make([]any, len(vals))
	for i, el := range vals {
		pv, err := Plain(el)
		if err != nil {
			return nil, fmt.Errorf("%d: %w", i, err)
		}
		out[i] = pv
	}
	return out, nil
}
