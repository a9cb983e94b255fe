package bsonvalue

import (
	"fmt"
	"reflect"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// bsonPackage is the import path of the driver's bson types.
var bsonPackage = reflect.TypeFor[bson.D]().PkgPath()

// Firestore converts a Go value (a plain value, or one holding the driver's
// bson types, as decoded from MongoDB) into one the Firestore client stores
// faithfully, by the rules of Plain: plain values pass unchanged, maps and
// slices are converted element by element, and anything of the bson
// package is marshalled and converted by Plain. Other Go types are an
// error wrapping ErrUnsupported.
func Firestore(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool, string, int64, float64, []byte, time.Time:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case map[string]any:
		return firestoreMap(x)
	case []any:
		return firestoreSlice(x)
	case bson.RawValue:
		return Plain(x)
	case bson.Raw:
		return Plain(bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: x})
	}
	if t := reflect.TypeOf(v); t.PkgPath() != bsonPackage {
		return nil, fmt.Errorf("%w: Go type %T", ErrUnsupported, v)
	}
	typ, data, err := bson.MarshalValue(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %T: %w", ErrUnsupported, v, err)
	}
	return Plain(bson.RawValue{Type: typ, Value: data})
}

func firestoreMap(m map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		cv, err := Firestore(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = cv
	}
	return out, nil
}

func firestoreSlice(s []any) ([]any, error) {
	out := make([]any, len(s))
	for i, v := range s {
		cv, err := Firestore(v)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = cv
	}
	return out, nil
}
