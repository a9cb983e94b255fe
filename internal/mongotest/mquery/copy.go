package mquery

import "go.mongodb.org/mongo-driver/v2/bson"

// deepCopy copies documents and arrays so that later edits never reach the
// caller's values. Scalars are shared (they are immutable values, except the
// byte slice of a Binary, which this package never modifies).
func deepCopy(v any) any {
	switch x := v.(type) {
	case bson.D:
		return copyDoc(x)
	case bson.A:
		out := make(bson.A, len(x))
		for i, el := range x {
			out[i] = deepCopy(el)
		}
		return out
	case []any:
		out := make(bson.A, len(x))
		for i, el := range x {
			out[i] = deepCopy(el)
		}
		return out
	}
	return v
}

// copyDoc deep-copies a document; nil stays nil-free (an empty document).
func copyDoc(doc bson.D) bson.D {
	out := make(bson.D, len(doc))
	for i, e := range doc {
		out[i] = bson.E{Key: e.Key, Value: deepCopy(e.Value)}
	}
	return out
}
