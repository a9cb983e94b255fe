package source

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestLookupProjection(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"meta"}, []string{"meta"}},
		{[]string{"meta.title", "meta", "tags.0", "name"}, []string{"meta", "tags", "name"}},
		{[]string{"a.b.c", "a.d"}, []string{"a"}},
	}
	for _, tc := range tests {
		if got := lookupProjection(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("lookupProjection(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestResolveWithoutIO(t *testing.T) {
	// A nil collection: these cases must not read MongoDB.
	r := NewResolver(nil)
	t.Run("nothing to look up", func(t *testing.T) {
		ev := &event.Event{Kind: event.ProjectUpdated, ProjectID: "p", Set: map[string]any{"name": "N"}}
		if err := r.Resolve(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ev.Set, map[string]any{"name": "N"}) || ev.Unset != nil || ev.Unresolved != nil {
			t.Errorf("event changed: %+v", ev)
		}
	})
	t.Run("no raw id", func(t *testing.T) {
		ev := &event.Event{Kind: event.ProjectUpdated, ProjectID: "p", Lookup: []string{"meta"}}
		if err := r.Resolve(context.Background(), ev); !errors.Is(err, event.ErrInvalidID) {
			t.Fatalf("err = %v, want ErrInvalidID", err)
		}
	})
}

func TestResolve(t *testing.T) {
	coll, _ := watchertest.Projects(t)
	ctx := watchertest.Context(t, 30*time.Second)
	oid := bson.NewObjectID()
	_, err := coll.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: "by oid"},
			{Key: "meta", Value: bson.D{{Key: "title", Value: "T"}, {Key: "n", Value: int32(2)}}},
			{Key: "tags", Value: bson.A{"a", "b"}}},
		// Same characters, string type: must not be confused with the ObjectID.
		bson.D{{Key: "_id", Value: oid.Hex()}, {Key: "name", Value: "by string"}, {Key: "meta", Value: "flat"}},
	})
	mustExec(t, err)
	idOf := func(v any) bson.RawValue { return watchertest.Raw(t, bson.D{{Key: "_id", Value: v}}).Lookup("_id") }

	tests := []struct {
		name       string
		id         any
		lookup     []string
		set        map[string]any // merged with the event's own Set {"keep": true}
		unset      []string
		unresolved []string
	}{
		{"ObjectID id", oid, []string{"meta", "tags.1", "meta.title", "missing"},
			map[string]any{"keep": true, "meta": map[string]any{"title": "T", "n": int64(2)}, "tags.1": "b", "meta.title": "T"},
			[]string{"missing"}, nil},
		{"string id", oid.Hex(), []string{"meta", "meta.title", "name"},
			map[string]any{"keep": true, "meta": "flat", "name": "by string"}, []string{"meta.title"}, nil},
		{"project gone", bson.NewObjectID(), []string{"meta", "name"},
			map[string]any{"keep": true}, nil, []string{"meta", "name"}},
	}
	r := NewResolver(coll)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := &event.Event{Kind: event.ProjectUpdated, ProjectID: "x", DocumentID: idOf(tc.id),
				Set: map[string]any{"keep": true}, Lookup: append([]string(nil), tc.lookup...)}
			if err := r.Resolve(ctx, ev); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev.Set, tc.set) {
				t.Errorf("Set = %#v, want %#v", ev.Set, tc.set)
			}
			if !reflect.DeepEqual(ev.Unset, tc.unset) {
				t.Errorf("Unset = %#v, want %#v", ev.Unset, tc.unset)
			}
			if !reflect.DeepEqual(ev.Unresolved, tc.unresolved) {
				t.Errorf("Unresolved = %#v, want %#v", ev.Unresolved, tc.unresolved)
			}
			if ev.Lookup != nil {
				t.Errorf("Lookup left: %v", ev.Lookup)
			}
		})
	}
}

// A descendant update through the stream ends as the whole new value.
func TestResolveDescendantUpdateFromStream(t *testing.T) {
	coll, _ := watchertest.Projects(t)
	ctx := watchertest.Context(t, 30*time.Second)
	oid := bson.NewObjectID()
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: oid},
		{Key: "meta", Value: bson.D{{Key: "title", Value: "old"}, {Key: "lang", Value: "en"}}}})
	mustExec(t, err)
	src := openSource(t, ctx, coll, "now", nil)
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: bson.D{{Key: "meta.title", Value: "new"}}}})
	mustExec(t, err)

	ch := watchertest.NextChange(t, ctx, src)
	if _, err := ch.UpdatedFields.LookupErr("meta.title"); err != nil {
		t.Fatalf("the change carries only the descendant meta.title: %v", ch.UpdatedFields)
	}
	// What derivation makes of it (watcher.Derive's descendant rule).
	ev := event.Event{Kind: event.ProjectUpdated, ProjectID: oid.Hex(), DocumentID: ch.DocumentKey.Lookup("_id"), Lookup: []string{"meta"}}
	if err := NewResolver(coll).Resolve(ctx, &ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"meta": map[string]any{"title": "new", "lang": "en"}}
	if !reflect.DeepEqual(ev.Set, want) || ev.ProjectID != oid.Hex() {
		t.Errorf("event %+v, want Set %v", ev, want)
	}
}

func TestResolveReadFailure(t *testing.T) {
	coll, srv := watchertest.Projects(t)
	mongotest.RequireFaults(t, srv)
	ctx := watchertest.Context(t, 30*time.Second)
	srv.FailCommand("find", 1, 8000) // a non-retryable error
	ev := &event.Event{Kind: event.ProjectUpdated, ProjectID: "p", DocumentID: watchertest.Raw(t, bson.D{{Key: "_id", Value: "p"}}).Lookup("_id"),
		Lookup: []string{"meta"}}
	if err := NewResolver(coll).Resolve(ctx, ev); err == nil {
		t.Fatalf("Resolve succeeded over a failed read: %+v", ev)
	}
	if ev.Set != nil || ev.Unset != nil || ev.Unresolved != nil {
		t.Errorf("a failed read changed the event: %+v", ev)
	}
}
