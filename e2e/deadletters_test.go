package e2e

import (
	"bytes"
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// deadLetters reads the daemon's dead-letter collection.
type deadLetters struct{ coll *mongo.Collection }

func (w *world) deadLetterColl() deadLetters {
	return deadLetters{coll: w.projects.Database().Collection(deadLetterCollection)}
}

func (l deadLetters) all(ctx context.Context) ([]bson.Raw, error) {
	cur, err := l.coll.Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var out []bson.Raw
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// countDeadLettersFor counts the dead letters that name a project _id:
// somewhere below the top level (documentKey, the event) an "_id" field
// equal to id, type included; with reason set, only those giving it.
func countDeadLettersFor(letters []bson.Raw, id any, reason string) int {
	t, v, err := bson.MarshalValue(id)
	if err != nil {
		return 0
	}
	want := bson.RawValue{Type: t, Value: v}
	n := 0
	for _, l := range letters {
		if reason != "" {
			if r, _ := l.Lookup("reason").StringValueOK(); r != reason {
				continue
			}
		}
		if hasNestedID(l, want, 0) {
			n++
		}
	}
	return n
}

func hasNestedID(doc bson.Raw, want bson.RawValue, depth int) bool {
	elems, err := doc.Elements()
	if err != nil {
		return false
	}
	for _, e := range elems {
		v := e.Value()
		if depth > 0 && e.Key() == "_id" && v.Type == want.Type && bytes.Equal(v.Value, want.Value) {
			return true
		}
		switch v.Type {
		case bson.TypeEmbeddedDocument:
			if hasNestedID(v.Document(), want, depth+1) {
				return true
			}
		case bson.TypeArray:
			if hasNestedID(bson.Raw(v.Array()), want, depth+1) {
				return true
			}
		}
	}
	return false
}
