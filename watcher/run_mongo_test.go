package watcher

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/projectwatcher/watcher/source"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestRunAgainstMongo runs the real Source and Resolver against MongoDB
// (mongotest, or WATCHER_TEST_MONGO_URI): apply, stop, resume from the
// saved checkpoint without replaying, and fail loudly when the history is
// gone.
func TestRunAgainstMongo(t *testing.T) {
	coll, srv := watchertest.Projects(t)
	ctx := context.Background()
	ids := []bson.ObjectID{bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()}
	for i, id := range ids {
		doc := bson.D{{Key: "_id", Value: id}, {Key: "name", Value: bson.D{{Key: "first", Value: fmt.Sprint("p", i)}}}}
		if _, err := coll.InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	m := &mongoRuns{coll: coll, store: &memTokenStore{}, ap: &recApplier{}, logs: &watchertest.LogBuffer{}}
	store, ap, start := m.store, m.ap, m.start

	// First run: starts at now, applies a delete and a nested update.
	obs, stop := start(t)
	watchertest.WaitFor(t, "the stream to open", func() bool { return obs.count("open:true") == 1 })
	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: ids[0]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: ids[1]}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name.first", Value: "renamed"}}}}); err != nil {
		t.Fatal(err)
	}
	watchertest.WaitFor(t, "both events applied", func() bool { return len(ap.get(ids[0].Hex())) == 1 && len(ap.get(ids[1].Hex())) == 1 })
	if err := stop(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if got := fmt.Sprint(ap.get(ids[1].Hex())); got != "[update:map[first:renamed]:[]]" {
		t.Fatalf("update applied as %s, want the value read back from MongoDB", got)
	}
	first := store.cp
	if len(first.Token) == 0 {
		t.Fatal("no checkpoint saved by the first run")
	}

	// While stopped, a project is deleted; the second run resumes from the
	// checkpoint: it applies that delete and replays nothing before it.
	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: ids[2]}}); err != nil {
		t.Fatal(err)
	}
	_, stop = start(t)
	watchertest.WaitFor(t, "the delete made while stopped", func() bool { return len(ap.get(ids[2].Hex())) == 1 })
	if err := stop(); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if n0, n1 := len(ap.get(ids[0].Hex())), len(ap.get(ids[1].Hex())); n0 != 1 || n1 != 1 {
		t.Fatalf("events before the checkpoint replayed: %d and %d applies, want 1 each", n0, n1)
	}
	if string(store.cp.Token) == string(first.Token) {
		t.Fatal("the second run did not move the checkpoint")
	}

	t.Run("history lost", func(t *testing.T) {
		mongotest.RequireFaults(t, srv)
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "name", Value: "later"}}); err != nil {
			t.Fatal(err)
		}
		srv.TrimHistory()
		saved := store.cp
		w, err := New(Options{
			Source: source.NewSource(coll, "now", zerolog.Nop()), Resolver: source.NewResolver(coll), Applier: ap, Store: store,
			Fields: []string{"name"}, Logger: zerolog.New(m.logs),
		})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := w.Run(rctx); !errors.Is(err, event.ErrHistoryLost) {
			t.Fatalf("Run = %v, want event.ErrHistoryLost", err)
		}
		if string(store.cp.Token) != string(saved.Token) {
			t.Fatal("the checkpoint moved although the history was lost (restarted from now?)")
		}
	})
}

// mongoRuns starts watchers on the real source over coll, one after
// another, sharing the store and the applier.
type mongoRuns struct {
	coll  *mongo.Collection
	store *memTokenStore
	ap    *recApplier
	logs  *watchertest.LogBuffer
}

// start runs a watcher until the returned stop is called.
func (m *mongoRuns) start(t *testing.T) (obs *recObserver, stop func() error) {
	t.Helper()
	obs = &recObserver{}
	w, err := New(Options{
		Source: source.NewSource(m.coll, "now", zerolog.Nop()), Resolver: source.NewResolver(m.coll), Applier: m.ap, Store: m.store,
		Observer: obs, Fields: []string{"name"}, Workers: 2, CheckpointInterval: 10 * time.Millisecond,
		Logger: zerolog.New(m.logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return obs, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return after cancel")
			return nil
		}
	}
}
