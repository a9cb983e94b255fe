package source

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzDecodeChange feeds arbitrary bytes to the Source's decoder as if the
// server had sent them: it must never panic, must reject what it cannot read
// with ErrUndecodableEvent, and a Change it returns must own its bytes
// (FuzzDerive in package watcher fuzzes what derivation makes of it).
func FuzzDecodeChange(f *testing.F) {
	token := bson.D{{Key: "_data", Value: "826B08C7860000004801"}}
	ts := bson.Timestamp{T: 1795737478, I: 3}
	oid := bson.NewObjectID()
	seeds := []bson.D{
		{{Key: "_id", Value: token}, {Key: "operationType", Value: "update"}, {Key: "clusterTime", Value: ts},
			{Key: "wallTime", Value: bson.NewDateTimeFromTime(time.Unix(1795737478, 0))},
			{Key: "ns", Value: bson.D{{Key: "db", Value: "c"}, {Key: "coll", Value: "projects"}}},
			{Key: "documentKey", Value: bson.D{{Key: "_id", Value: oid}}},
			{Key: "updateDescription", Value: bson.D{
				{Key: "updatedFields", Value: bson.D{{Key: "name", Value: "n"}, {Key: "owner.team", Value: "t"}}},
				{Key: "removedFields", Value: bson.A{"description"}},
				{Key: "truncatedArrays", Value: bson.A{}},
				{Key: "disambiguatedPaths", Value: bson.D{{Key: "a.b", Value: bson.A{"a.b"}}}}}}},
		{{Key: "_id", Value: token}, {Key: "operationType", Value: "delete"}, {Key: "clusterTime", Value: ts},
			{Key: "documentKey", Value: bson.D{{Key: "_id", Value: "p-1"}}}},
		{{Key: "_id", Value: token}, {Key: "operationType", Value: "replace"}, {Key: "clusterTime", Value: ts},
			{Key: "documentKey", Value: bson.D{{Key: "_id", Value: int32(7)}}},
			{Key: "fullDocument", Value: bson.D{{Key: "_id", Value: int32(7)}, {Key: "name", Value: "x"}}}},
		{{Key: "_id", Value: token}, {Key: "operationType", Value: "rename"}, {Key: "clusterTime", Value: ts},
			{Key: "ns", Value: bson.D{{Key: "db", Value: "c"}, {Key: "coll", Value: "projects"}}},
			{Key: "to", Value: bson.D{{Key: "db", Value: "c"}, {Key: "coll", Value: "old"}}}},
		{{Key: "operationType", Value: "delete"}},
		{{Key: "_id", Value: "not a document"}, {Key: "operationType", Value: int32(1)}},
	}
	for _, d := range seeds {
		b, err := bson.Marshal(d)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2]) // truncated
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := append([]byte(nil), data...)
		ch, err := decodeChange(bson.Raw(in))
		if err != nil {
			if !errors.Is(err, ErrUndecodableEvent) {
				t.Fatalf("error does not wrap ErrUndecodableEvent: %v", err)
			}
			return
		}
		if len(ch.Token) == 0 || ch.Op == "" {
			t.Fatalf("decoded a change without token or operationType: %+v", ch)
		}
		token := append([]byte(nil), ch.Token...)
		for i := range in {
			in[i] ^= 0xff // the driver reuses its buffers
		}
		if !bytes.Equal(ch.Token, token) {
			t.Fatal("the Change shares its bytes with the input buffer")
		}
	})
}
