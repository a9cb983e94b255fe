package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/projectwatcher/watcher/resume"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestWatcherOptionsWithoutLease: without leases a run saves to the
// configured store, is never aborted, has no lost-history repair, and each
// run gets a change stream of its own.
func TestWatcherOptionsWithoutLease(t *testing.T) {
	w := newWorld(t)
	d, r := buildFor(t, w.cfg, zerolog.Nop())
	if r.in.lease != nil {
		t.Fatal("leases are off, yet the instance has a lease")
	}
	o := r.in.soloOptions()
	if o.Store != d.Checkpoints() {
		t.Errorf("Store = %T, want the configured checkpoint store %T", o.Store, d.Checkpoints())
	}
	if o.Abort != nil || o.OnHistoryLost != nil || o.RestartSource != nil {
		t.Errorf("Abort, OnHistoryLost, RestartSource = %v, %v, %v; want all unset", o.Abort, o.OnHistoryLost != nil, o.RestartSource)
	}
	if o.Applier != d.Applier() || o.Resolver != d.Resolver() || o.DeadLetters != d.DeadLetters() {
		t.Error("Applier, Resolver and DeadLetters must be the Daemon's")
	}
	if deps, ok := o.Dependencies.(dependencies); !ok || deps.firestore != d.FirestoreHealth() || deps.mongo != d.mongoHealth {
		t.Errorf("Dependencies = %#v, want the Daemon's Firestore and MongoDB trackers", o.Dependencies)
	}
	if got := strings.Join(o.Fields, ","); got != "name" {
		t.Errorf("Fields = %q, want the configured source field name", got)
	}
	if again := r.in.soloOptions(); again.Source == o.Source {
		t.Error("two runs share one change stream Source")
	}
}

// TestWatcherOptionsDryRun: a dry run takes no lease even with
// lease.enabled, keeps its checkpoints in memory (starting at the real
// one) and only logs its dead letters.
func TestWatcherOptionsDryRun(t *testing.T) {
	w := newWorld(t)
	w.cfg.Safety.DryRun, w.cfg.Lease.Enabled = true, true
	var logs watchertest.LogBuffer
	d, r := buildFor(t, w.cfg, zerolog.New(&logs))
	if r.in.lease != nil || r.cfg.Lease.Enabled {
		t.Fatal("a dry run must not take the lease")
	}
	if !strings.Contains(logs.String(), "lease.enabled is ignored") {
		t.Errorf("no warning that lease.enabled is ignored; logs:\n%s", logs.String())
	}
	ctx := watchertest.Context(t, 30*time.Second)
	real := event.Checkpoint{Token: watchertest.Token("real"), ClusterTime: bson.Timestamp{T: 10, I: 1}}
	if err := d.Checkpoints().Save(ctx, real); err != nil {
		t.Fatal(err)
	}

	o := r.in.soloOptions()
	if _, ok := o.Store.(*watcher.MemoryStore); !ok {
		t.Fatalf("Store = %T, want a *watcher.MemoryStore", o.Store)
	}
	if o.Abort != nil {
		t.Error("a dry run has an abort channel")
	}
	if cp, ok, err := o.Store.Load(ctx); err != nil || !ok || cp.ClusterTime != real.ClusterTime {
		t.Fatalf("the dry run starts at %v (found %v, %v), want the real checkpoint", cp.ClusterTime, ok, err)
	}
	if err := o.Store.Save(ctx, event.Checkpoint{Token: watchertest.Token("dry"), ClusterTime: bson.Timestamp{T: 20, I: 1}}); err != nil {
		t.Fatal(err)
	}
	if cp, _, err := d.Checkpoints().Load(ctx); err != nil || cp.ClusterTime != real.ClusterTime {
		t.Errorf("the stored checkpoint is %v (%v) after a dry run's save, want it untouched", cp.ClusterTime, err)
	}
	if _, ok := o.DeadLetters.(loggedDeadLetters); !ok {
		t.Errorf("DeadLetters = %T, want the dry run's logger", o.DeadLetters)
	}
}

// TestWatcherOptionsPerLeaseTerm: with leases each term's run saves
// through a store fenced with the term's epoch and is aborted when the
// term is lost; a later term gets a new fenced store with a higher epoch.
func TestWatcherOptionsPerLeaseTerm(t *testing.T) {
	w := newWorld(t)
	w.cfg.Lease.Enabled = true
	_, r := buildFor(t, w.cfg, zerolog.Nop())
	if r.in.lease == nil {
		t.Fatal("lease.enabled, yet the instance has no lease")
	}
	ctx := watchertest.Context(t, 30*time.Second)
	var stores []*resume.FencedStore
	for range 2 {
		term, err := r.in.lease.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		o, ok, err := r.in.termOptions(term)
		if err != nil || !ok {
			t.Fatalf("termOptions: ok %v, %v", ok, err)
		}
		fenced, isFenced := o.Store.(*resume.FencedStore)
		if !isFenced || fenced.Epoch() != term.Epoch() {
			t.Fatalf("Store = %T (epoch %v), want a *resume.FencedStore with the term's epoch %d", o.Store, epochOf(fenced), term.Epoch())
		}
		if stored, err := fenced.StoredEpoch(ctx); err != nil || stored != term.Epoch() {
			t.Errorf("the checkpoint is fenced with epoch %d (%v), want %d", stored, err, term.Epoch())
		}
		if o.Abort != term.Lost() {
			t.Error("Abort is not the term's Lost channel")
		}
		stores = append(stores, fenced)
		if err := term.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if stores[0] == stores[1] || stores[1].Epoch() <= stores[0].Epoch() {
		t.Errorf("second term's store has epoch %d after %d; want a new store with a higher epoch", stores[1].Epoch(), stores[0].Epoch())
	}
}

func epochOf(f *resume.FencedStore) any {
	if f == nil {
		return "none"
	}
	return f.Epoch()
}

// TestWatcherOptionsHistoryLostReconcile: with resume.onHistoryLost
// reconcile the run has the repair and a restart stream that starts at
// now, whatever resume.startAt says.
func TestWatcherOptionsHistoryLostReconcile(t *testing.T) {
	w := newWorld(t)
	w.cfg.Resume.OnHistoryLost = "reconcile"
	w.cfg.Resume.StartAt = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	_, r := buildFor(t, w.cfg, zerolog.Nop())
	o := r.in.soloOptions()
	if o.OnHistoryLost == nil || o.RestartSource == nil {
		t.Fatalf("OnHistoryLost set %v, RestartSource %v; want both", o.OnHistoryLost != nil, o.RestartSource)
	}
	ctx := watchertest.Context(t, 30*time.Second)
	projects := w.db.Collection(w.cfg.Mongo.Collection)
	if _, err := projects.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "before"}}, bson.D{{Key: "_id", Value: "after"}}}); err != nil {
		t.Fatal(err)
	}
	deleteProject(t, ctx, projects, "before")
	for _, src := range []watcher.ChangeSource{o.Source, o.RestartSource} {
		if err := src.Open(ctx, nil); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = src.Close(context.Background()) }()
	}
	deleteProject(t, ctx, projects, "after")

	if got := changedID(t, ctx, o.Source); got != "before" {
		t.Errorf("Source (startAt a minute ago) first sees %q, want the delete of \"before\"", got)
	}
	if got := changedID(t, ctx, o.RestartSource); got != "after" {
		t.Errorf("RestartSource first sees %q, want \"after\": it must start at now", got)
	}
}

func deleteProject(t *testing.T, ctx context.Context, projects *mongo.Collection, id string) {
	t.Helper()
	res, err := projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil || res.DeletedCount != 1 {
		t.Fatalf("delete project %q: %v (deleted %v)", id, err, res)
	}
}

// changedID is the _id of the next change src reads.
func changedID(t *testing.T, ctx context.Context, src watcher.ChangeSource) string {
	t.Helper()
	ch := watchertest.NextChange(t, ctx, src)
	id, ok := ch.DocumentKey.Lookup("_id").StringValueOK()
	if !ok {
		t.Fatalf("change %s has no string _id: %s", ch.Op, ch.DocumentKey)
	}
	return id
}
