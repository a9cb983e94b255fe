package watcher

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestDecodeChange(t *testing.T) {
	tok := bson.D{{Key: "_data", Value: "82ABCDEF"}}
	ct := bson.Timestamp{T: 1_700_000_000, I: 2}
	wall := time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	ns := bson.D{{Key: "db", Value: "collab"}, {Key: "coll", Value: "projects"}}
	base := func(op string, extra ...bson.E) bson.D {
		d := bson.D{{Key: "_id", Value: tok}, {Key: "operationType", Value: op}, {Key: "clusterTime", Value: ct},
			{Key: "wallTime", Value: bson.NewDateTimeFromTime(wall)}, {Key: "ns", Value: ns}}
		return append(d, extra...)
	}
	key := bson.D{{Key: "_id", Value: testOID}}
	raw := func(v any) bson.Raw { return mustRaw(t, v) }

	tests := []struct {
		name    string
		in      bson.Raw
		want    Change
		wantErr bool
	}{
		{"delete", raw(base("delete", bson.E{Key: "documentKey", Value: key})),
			Change{Op: "delete", DocumentKey: raw(key)}, false},
		{"update", raw(base("update", bson.E{Key: "documentKey", Value: key}, bson.E{Key: "updateDescription", Value: bson.D{
			{Key: "updatedFields", Value: bson.D{{Key: "a.b", Value: 1}}},
			{Key: "removedFields", Value: bson.A{"x", "y.z"}},
			{Key: "truncatedArrays", Value: bson.A{bson.D{{Key: "field", Value: "t"}, {Key: "newSize", Value: int32(1)}}}},
			{Key: "disambiguatedPaths", Value: bson.D{{Key: "a.b", Value: bson.A{"a.b"}}}},
		}})),
			Change{Op: "update", DocumentKey: raw(key),
				UpdatedFields:      raw(bson.D{{Key: "a.b", Value: 1}}),
				RemovedFields:      []string{"x", "y.z"},
				TruncatedArrays:    mustRawArray(t, bson.A{bson.D{{Key: "field", Value: "t"}, {Key: "newSize", Value: int32(1)}}}),
				DisambiguatedPaths: raw(bson.D{{Key: "a.b", Value: bson.A{"a.b"}}}),
			}, false},
		{"update with empty lists", raw(base("update", bson.E{Key: "documentKey", Value: key}, bson.E{Key: "updateDescription", Value: bson.D{
			{Key: "updatedFields", Value: bson.D{}}, {Key: "removedFields", Value: bson.A{}}, {Key: "truncatedArrays", Value: bson.A{}},
		}})),
			Change{Op: "update", DocumentKey: raw(key), UpdatedFields: raw(bson.D{})}, false},
		{"replace", raw(base("replace", bson.E{Key: "documentKey", Value: key},
			bson.E{Key: "fullDocument", Value: bson.D{{Key: "_id", Value: testOID}, {Key: "name", Value: "N"}}})),
			Change{Op: "replace", DocumentKey: raw(key), FullDocument: raw(bson.D{{Key: "_id", Value: testOID}, {Key: "name", Value: "N"}})}, false},
		{"null fullDocument", raw(base("update", bson.E{Key: "documentKey", Value: key}, bson.E{Key: "fullDocument", Value: nil})),
			Change{Op: "update", DocumentKey: raw(key)}, false},
		{"rename", raw(base("rename", bson.E{Key: "to", Value: bson.D{{Key: "db", Value: "collab"}, {Key: "coll", Value: "old"}}})),
			Change{Op: "rename", To: Namespace{"collab", "old"}}, false},
		{"unknown fields are ignored", raw(base("delete", bson.E{Key: "documentKey", Value: key}, bson.E{Key: "txnNumber", Value: int64(3)})),
			Change{Op: "delete", DocumentKey: raw(key)}, false},

		{"no token", raw(bson.D{{Key: "operationType", Value: "delete"}}), Change{}, true},
		{"token not a document", raw(bson.D{{Key: "_id", Value: "x"}, {Key: "operationType", Value: "delete"}}), Change{}, true},
		{"no operationType", raw(bson.D{{Key: "_id", Value: tok}}), Change{}, true},
		{"operationType not a string", raw(bson.D{{Key: "_id", Value: tok}, {Key: "operationType", Value: 1}}), Change{}, true},
		{"clusterTime not a timestamp", raw(base("delete", bson.E{Key: "clusterTime", Value: "now"})), Change{}, true},
		{"wallTime not a date", raw(base("delete", bson.E{Key: "wallTime", Value: 5})), Change{}, true},
		{"documentKey not a document", raw(base("delete", bson.E{Key: "documentKey", Value: "k"})), Change{}, true},
		{"ns.coll not a string", raw(base("drop", bson.E{Key: "ns", Value: bson.D{{Key: "db", Value: "d"}, {Key: "coll", Value: 1}}})), Change{}, true},
		{"removedFields holds a number", raw(base("update", bson.E{Key: "updateDescription", Value: bson.D{
			{Key: "removedFields", Value: bson.A{1}}}})), Change{}, true},
		{"updatedFields not a document", raw(base("update", bson.E{Key: "updateDescription", Value: bson.D{
			{Key: "updatedFields", Value: bson.A{}}}})), Change{}, true},
		{"fullDocument not a document", raw(base("replace", bson.E{Key: "fullDocument", Value: "doc"})), Change{}, true},
		{"truncated BSON", raw(base("delete"))[:20], Change{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeChange(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrUndecodableEvent) {
					t.Fatalf("err = %v, want ErrUndecodableEvent", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Token = raw(tok)
			// base() puts clusterTime, wallTime and ns first; a later duplicate wins.
			if v, err := tc.in.LookupErr("clusterTime"); err == nil {
				want.ClusterTime.T, want.ClusterTime.I = v.Timestamp()
			}
			want.WallTime = wall
			want.Namespace = Namespace{"collab", "projects"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecodeChangeOwnsItsBytes(t *testing.T) {
	in := mustRaw(t, bson.D{{Key: "_id", Value: bson.D{{Key: "_data", Value: "AA"}}}, {Key: "operationType", Value: "delete"},
		{Key: "documentKey", Value: bson.D{{Key: "_id", Value: "p1"}}}})
	ch, err := decodeChange(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 0
	}
	if id, ok := ch.DocumentKey.Lookup("_id").StringValueOK(); !ok || id != "p1" {
		t.Fatalf("documentKey changed with the driver's buffer: %v", ch.DocumentKey)
	}
}

func TestStartTimestamp(t *testing.T) {
	tests := []struct {
		in      string
		want    uint32
		wantErr bool
	}{
		{"2024-05-01T12:00:00Z", uint32(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).Unix()), false},
		{"2024-05-01T14:00:00+02:00", uint32(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).Unix()), false},
		{"yesterday", 0, true},
		{"1960-01-01T00:00:00Z", 0, true},
		{"2200-01-01T00:00:00Z", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			ts, err := startTimestamp(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if ts.T != tc.want || ts.I != 0 {
				t.Errorf("ts = %+v, want T=%d", ts, tc.want)
			}
		})
	}
}

func TestIsHistoryLost(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"286", mongo.CommandError{Code: 286, Name: "ChangeStreamHistoryLost"}, true},
		{"280", mongo.CommandError{Code: 280, Name: "ChangeStreamFatalError"}, true},
		{"wrapped", fmt.Errorf("open: %w", mongo.CommandError{Code: 286}), true},
		{"other code", mongo.CommandError{Code: 11000}, false},
		{"plain error", errors.New("286"), false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsHistoryLost(tc.err); got != tc.want {
				t.Errorf("IsHistoryLost(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestPipelineShape(t *testing.T) {
	p := Pipeline()
	if len(p) != 2 || p[0][0].Key != "$match" || p[1][0].Key != "$project" {
		t.Fatalf("pipeline = %v, want $match then $project", p)
	}
	in := p[0][0].Value.(bson.D)[0].Value.(bson.D)[0].Value.(bson.A)
	var ops []string
	for _, v := range in {
		ops = append(ops, v.(string))
	}
	for _, op := range []string{"delete", "update", "replace", "drop", "rename", "dropDatabase", "invalidate"} {
		if !slices.Contains(ops, op) {
			t.Errorf("$match drops %q", op)
		}
	}
	if slices.Contains(ops, "insert") {
		t.Errorf("$match lets inserts through")
	}
	proj := map[string]any{}
	for _, e := range p[1][0].Value.(bson.D) {
		proj[e.Key] = e.Value
	}
	for _, k := range []string{"_id", "operationType", "clusterTime", "wallTime", "ns", "documentKey", "updateDescription", "fullDocument"} {
		if proj[k] != 1 {
			t.Errorf("$project does not keep %q: %v", k, proj[k])
		}
	}
}
