package watcher_test

// Derivation of what a real change stream delivers: the source against
// MongoDB (internal/mongotest, or WATCHER_TEST_MONGO_URI), then Derive.

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/projectwatcher/watcher/source"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func openStream(t *testing.T, ctx context.Context, coll *mongo.Collection) *source.Source {
	t.Helper()
	src := source.NewSource(coll, "now", zerolog.New(zerolog.NewTestWriter(t)))
	must(t, src.Open(ctx, nil))
	t.Cleanup(func() { _ = src.Close(context.Background()) })
	return src
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestDeriveFromTheStream derives the events of updates, an unset, a
// replace and a delete as the server delivers them.
func TestDeriveFromTheStream(t *testing.T) {
	coll, _ := watchertest.Projects(t)
	ctx := watchertest.Context(t, 30*time.Second)
	oid := bson.NewObjectID()
	_, err := coll.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: "A"}, {Key: "x", Value: 1}},
		bson.D{{Key: "_id", Value: "p-b"}, {Key: "name", Value: "B"}},
	})
	must(t, err)
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 0}}}})
	must(t, err) // before Open: startAt "now" must not see it

	src := openStream(t, ctx, coll)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "p-c"}, {Key: "name", Value: "C"}}) // filtered server-side
	must(t, err)
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "A2"}}}})
	must(t, err)
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "x", Value: ""}}}})
	must(t, err)
	_, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "p-b"}}, bson.D{{Key: "name", Value: "B2"}, {Key: "meta", Value: bson.D{{Key: "title", Value: "old"}}}})
	must(t, err)
	_, err = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}})
	must(t, err)

	fields := []string{"name", "x"}
	want := []struct {
		op   string
		id   string
		kind event.Kind
		set  map[string]any
		uns  []string
	}{
		{"update", oid.Hex(), event.ProjectUpdated, map[string]any{"name": "A2"}, nil},
		{"update", oid.Hex(), event.ProjectUpdated, nil, []string{"x"}},
		{"replace", "p-b", event.ProjectUpdated, map[string]any{"name": "B2"}, []string{"x"}},
		{"delete", oid.Hex(), event.ProjectDeleted, nil, nil},
	}
	var last bson.Timestamp
	for i, w := range want {
		ch := watchertest.NextChange(t, ctx, src)
		if ch.Op != w.op {
			t.Fatalf("change %d: op %q, want %q (%+v)", i, ch.Op, w.op, ch)
		}
		if len(ch.Token) == 0 || ch.ClusterTime.T == 0 || ch.WallTime.IsZero() {
			t.Errorf("change %d: token/clusterTime/wallTime missing: %+v", i, ch)
		}
		if ch.ClusterTime.Before(last) {
			t.Errorf("change %d: clusterTime %v before %v", i, ch.ClusterTime, last)
		}
		last = ch.ClusterTime
		if ch.Namespace != (event.Namespace{DB: coll.Database().Name(), Coll: coll.Name()}) {
			t.Errorf("change %d: ns %v", i, ch.Namespace)
		}
		ev, ok, err := watcher.Derive(ch, fields)
		if err != nil || !ok {
			t.Fatalf("change %d: derive: ok=%v err=%v", i, ok, err)
		}
		if ev.Kind != w.kind || ev.ProjectID != w.id || !reflect.DeepEqual(ev.Set, w.set) || !reflect.DeepEqual(ev.Unset, w.uns) {
			t.Errorf("change %d: event %+v, want %s %s set=%v unset=%v", i, ev, w.kind, w.id, w.set, w.uns)
		}
	}
	// The raw fields as the server sent them.
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "p-b"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "meta.title", Value: "T"}}}, {Key: "$unset", Value: bson.D{{Key: "name", Value: ""}}}})
	must(t, err)
	ch := watchertest.NextChange(t, ctx, src)
	if got, ok := ch.UpdatedFields.Lookup("meta.title").StringValueOK(); !ok || got != "T" {
		t.Errorf("updatedFields = %v", ch.UpdatedFields)
	}
	if !reflect.DeepEqual(ch.RemovedFields, []string{"name"}) {
		t.Errorf("removedFields = %v", ch.RemovedFields)
	}
	if id := ch.DocumentKey.Lookup("_id").StringValue(); id != "p-b" {
		t.Errorf("documentKey = %v", ch.DocumentKey)
	}
	if ch.FullDocument != nil {
		t.Errorf("update carries a fullDocument: %v", ch.FullDocument)
	}
}

func TestSourceFatalChanges(t *testing.T) {
	tests := []struct {
		name string
		do   func(ctx context.Context, coll *mongo.Collection) error
		ops  []string // acceptable ops of the first change
	}{
		{"drop", func(ctx context.Context, coll *mongo.Collection) error { return coll.Drop(ctx) }, []string{"drop"}},
		{"rename", func(ctx context.Context, coll *mongo.Collection) error {
			return coll.Database().Client().Database("admin").RunCommand(ctx, bson.D{
				{Key: "renameCollection", Value: coll.Database().Name() + "." + coll.Name()},
				{Key: "to", Value: coll.Database().Name() + ".renamed"},
			}).Err()
		}, []string{"rename"}},
		{"dropDatabase", func(ctx context.Context, coll *mongo.Collection) error { return coll.Database().Drop(ctx) },
			[]string{"drop", "dropDatabase"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			coll, _ := watchertest.Projects(t)
			ctx := watchertest.Context(t, 30*time.Second)
			_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "p"}})
			must(t, err)
			src := openStream(t, ctx, coll)
			must(t, tc.do(ctx, coll))

			ch := watchertest.NextChange(t, ctx, src)
			if !slices.Contains(tc.ops, ch.Op) {
				t.Fatalf("op %q, want one of %v", ch.Op, tc.ops)
			}
			var fe *watcher.FatalError
			if _, _, err := watcher.Derive(ch, []string{"name"}); !errors.As(err, &fe) {
				t.Fatalf("derive %s: err = %v, want *watcher.FatalError", ch.Op, err)
			}
			if ch.Namespace.DB != coll.Database().Name() {
				t.Errorf("ns = %v", ch.Namespace)
			}
			if tc.name == "rename" && ch.To.Coll != "renamed" {
				t.Errorf("to = %v", ch.To)
			}
			inv := watchertest.NextChange(t, ctx, src)
			if inv.Op != "invalidate" {
				t.Fatalf("then op %q, want invalidate", inv.Op)
			}
			if _, _, err := watcher.Derive(inv, nil); !errors.As(err, &fe) {
				t.Fatalf("derive invalidate: err = %v", err)
			}
			if _, ok, err := src.Next(ctx); ok || !errors.Is(err, source.ErrStreamClosed) {
				t.Fatalf("after invalidate: ok=%v err=%v, want source.ErrStreamClosed", ok, err)
			}
		})
	}
}
