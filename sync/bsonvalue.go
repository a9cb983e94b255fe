package sync

import (
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// firestoreValue converts a value read from MongoDB (possibly a bson type)
// into one the Firestore client stores faithfully: documents become
// map[string]any, arrays []any, ObjectIDs their hex string, dates and
// timestamps time.Time (UTC), decimals their string, binaries []byte, 32-bit
// integers int64. Types with no sensible Firestore form are an error.
func firestoreValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bson.Null, bson.Undefined:
		return nil, nil
	case string, bool, int64, float64, []byte, time.Time:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case bson.ObjectID:
		return x.Hex(), nil
	case bson.DateTime:
		return x.Time().UTC(), nil
	case bson.Timestamp:
		return time.Unix(int64(x.T), 0).UTC(), nil
	case bson.Decimal128:
		return x.String(), nil
	case bson.Binary:
		return x.Data, nil
	case bson.Symbol:
		return string(x), nil
	case bson.D:
		m := make(map[string]any, len(x))
		for _, e := range x {
			cv, err := firestoreValue(e.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.Key, err)
			}
			m[e.Key] = cv
		}
		return m, nil
	case bson.M:
		return convertMap(x)
	case map[string]any:
		return convertMap(x)
	case bson.A:
		return convertSlice(x)
	case []any:
		return convertSlice(x)
	case bson.Raw:
		var d bson.D
		if err := bson.Unmarshal(x, &d); err != nil {
			return nil, fmt.Errorf("decoding bson document: %w", err)
		}
		return firestoreValue(d)
	case bson.RawValue:
		var decoded any
		if err := x.Unmarshal(&decoded); err != nil {
			return nil, fmt.Errorf("decoding bson %s value: %w", x.Type, err)
		}
		return firestoreValue(decoded)
	default:
		return nil, fmt.Errorf("unsupported value type %T", v)
	}
}

func convertMap(m map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		cv, err := firestoreValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = cv
	}
	return out, nil
}

func convertSlice(s []any) ([]any, error) {
	out := make([]any, len(s))
	for i, v := range s {
		cv, err := firestoreValue(v)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = cv
	}
	return out, nil
}
