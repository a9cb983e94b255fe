package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/projectwatcher/watcher/reconcile"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// emulatorOwner authenticates as the emulator's owner (what the Firestore
// client does for the emulator).
type emulatorOwner struct{}

func (emulatorOwner) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}

func (emulatorOwner) RequireTransportSecurity() bool { return false }

// throughFirestore replaces d's Firestore client, and the appliers built
// on it, with one whose every call to the emulator passes through before
// first: before gets the call's method and, for a unary call, its request.
func throughFirestore(t *testing.T, d *Daemon, before func(method string, req any)) {
	t.Helper()
	host := firestoretest.RequireEmulator(t)
	conn, err := grpc.NewClient("passthrough:///"+host,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(emulatorOwner{}),
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
			invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			before(method, req)
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
			streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			before(method, nil)
			return streamer(ctx, desc, cc, method, opts...)
		}))
	if err != nil {
		t.Fatalf("grpc client: %v", err)
	}
	cfg := d.Config()
	fs, err := firestore.NewClientWithDatabase(context.Background(), cfg.Firestore.ProjectID, cfg.Firestore.DatabaseID,
		option.WithGRPCConn(conn))
	if err != nil {
		t.Fatalf("firestore client: %v", err)
	}
	_ = d.firestore.Close()
	d.firestore = fs // closed by d.Close
	if d.applier, err = NewApplier(fs, cfg, d.log, false); err != nil {
		t.Fatal(err)
	}
	if d.unlimited, err = NewApplier(fs, cfg, d.log, true); err != nil {
		t.Fatal(err)
	}
}

// runDaemon runs the daemon on cfg as Run does, its Firestore calls passing
// through before (see throughFirestore), until the returned stop is called
// (it returns the run's error).
func runDaemon(t *testing.T, cfg config.Config, log zerolog.Logger, before func(method string, req any)) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d, err := Open(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("Open: %v", err)
	}
	throughFirestore(t, d, before)
	r, err := build(d, prometheus.NewRegistry(), log, runOptions{})
	if err != nil {
		cancel()
		_ = d.Close()
		t.Fatalf("build: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- r.run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(time.Minute):
				runErr = errors.New("the daemon did not stop within a minute")
			}
			_ = d.Close()
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// TestPeriodicReconciliationEndsWithTheLeaseTerm: the leader's periodic
// reconciliation is cleaning up orphans (one project at a time, Firestore
// slowed) when another instance takes the lease. The run stops,
// says so, and cleans up nothing more.
func TestPeriodicReconciliationEndsWithTheLeaseTerm(t *testing.T) {
	w := newWorld(t)
	w.cfg.Lease.Enabled, w.cfg.Lease.TTL = true, 3*time.Second
	w.cfg.Reconcile.Interval = 200 * time.Millisecond
	const orphans = 60
	docs := map[string]map[string]any{}
	for i := range orphans {
		docs[fmt.Sprintf("o%02d", i)] = map[string]any{"projectId": fmt.Sprintf("gone-%02d", i)}
	}
	firestoretest.Seed(t, w.fs, "storyboards", docs)
	left := func() int { return len(firestoretest.ReadAll(t, w.fs, "storyboards")) }

	ctx := watchertest.Context(t, 2*time.Minute)
	var logs watchertest.LogBuffer
	// Each Firestore call of the daemon takes 50 ms more: a cleanup (a
	// query, a write) about 100 ms, the run several seconds.
	runDaemon(t, w.cfg, zerolog.New(&logs), func(string, any) { time.Sleep(50 * time.Millisecond) })

	watchertest.WaitFor(t, "the reconciliation to clean up a first orphan", func() bool { return left() < orphans })
	leases := w.db.Collection("leases")
	if _, err := leases.UpdateOne(ctx, bson.D{{Key: "_id", Value: w.cfg.Resume.Name}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "owner", Value: "another-instance"}, {Key: "expiresAt", Value: time.Now().Add(time.Hour)}}},
		{Key: "$inc", Value: bson.D{{Key: "epoch", Value: 1}}},
	}); err != nil {
		t.Fatal(err)
	}
	watchertest.WaitFor(t, "the leader to notice the lost lease", func() bool {
		return strings.Contains(logs.String(), "lost the leader lease")
	})
	atLoss := left()
	stopped := func() bool {
		return strings.Contains(logs.String(), "reconciliation stopped before it finished") &&
			strings.Contains(logs.String(), "another instance holds the lease")
	}
	for deadline := time.Now().Add(5 * time.Second); !stopped() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	atStop := left()
	time.Sleep(1500 * time.Millisecond) // room for 10 more cleanups at the run's pace
	after := left()
	t.Logf("orphans left of %d: %d when the lease was lost, %d when the run stopped, %d 1.5 s later", orphans, atLoss, atStop, after)
	if !stopped() {
		t.Errorf("no log says the reconciliation stopped with the lease term; logs:\n%s", logs.String())
	}
	if after != atStop || atStop == 0 {
		t.Errorf("orphans left: %d when the lease was lost, %d after the stop, %d 1.5 s later: the reconciliation kept cleaning up without the lease",
			atLoss, atStop, after)
	}
}

// writesDoc reports whether a write request of Firestore writes the
// document whose path ends with suffix.
func writesDoc(req any, suffix string) bool {
	var writes []*firestorepb.Write
	switch r := req.(type) {
	case *firestorepb.BatchWriteRequest:
		writes = r.GetWrites()
	case *firestorepb.CommitRequest:
		writes = r.GetWrites()
	}
	for _, w := range writes {
		if strings.HasSuffix(w.GetUpdate().GetName(), suffix) {
			return true
		}
	}
	return false
}

// TestReconciliationRepairIsOrderedWithTheStream: the project is renamed
// after the reconciliation read it and before its repair's write reaches
// Firestore. The newer name wins: the repair is applied in the project's
// order with the stream's events (the rename's event waits for it), not
// beside them (where the rename lands first and the repair's older value
// overwrites it).
func TestReconciliationRepairIsOrderedWithTheStream(t *testing.T) {
	w := newWorld(t)
	w.cfg.Resume.StartAt = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	w.cfg.Reconcile.Interval = 3 * time.Second // one run before the test stops the daemon
	ctx := watchertest.Context(t, 2*time.Minute)
	projects := w.db.Collection(w.cfg.Mongo.Collection)
	if _, err := projects.InsertOne(ctx, bson.D{{Key: "_id", Value: "p1"}, {Key: "name", Value: "v1"}}); err != nil {
		t.Fatal(err)
	}
	firestoretest.Seed(t, w.fs, "storyboards", map[string]map[string]any{"a": {"projectId": "p1", "projectName": "v0"}})
	name := func() any { // also called on the daemon's goroutines: no t.Fatal
		snap, err := w.fs.Doc("storyboards/a").Get(context.Background())
		if err != nil {
			return err
		}
		return snap.Data()["projectName"]
	}

	var first atomic.Bool
	renamed := make(chan struct{})
	hook := func(_ string, req any) {
		if !writesDoc(req, "/documents/storyboards/a") || !first.CompareAndSwap(false, true) {
			return // later writes (the stream's) pass at once
		}
		// The repair read v1 and is about to write it: rename now, and
		// give the stream's event 2 s to land first if it can.
		if _, err := projects.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: "p1"}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "v2"}}}}); err != nil {
			t.Error(err)
		}
		for deadline := time.Now().Add(2 * time.Second); name() != "v2" && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		close(renamed)
	}
	var logs watchertest.LogBuffer
	stop := runDaemon(t, w.cfg, zerolog.New(&logs), hook)
	watchertest.WaitFor(t, "the reconciliation to repair p1", func() bool {
		select {
		case <-renamed:
			return strings.Contains(logs.String(), `"reconciliation finished"`)
		default:
			return false
		}
	})
	if err := stop(); err != nil { // drains the queued events
		t.Fatalf("the daemon stopped with %v; logs:\n%s", err, logs.String())
	}
	if got := name(); got != "v2" {
		t.Errorf("projectName %v after the rename to v2: the reconciliation's older value overwrote it", got)
	}
}

// TestCommandReconcilerReadsEachProjectRightBeforeItsRepair is "watcher
// reconcile" (Daemon.NewReconciler): two drifted projects of one batch;
// while p1's repair is written, p2 is renamed and the running daemon
// copies the new name. p2's repair then writes the new name, not the one
// of the batch's lookup: each project is read right before its own repair.
func TestCommandReconcilerReadsEachProjectRightBeforeItsRepair(t *testing.T) {
	w := newWorld(t)
	ctx := watchertest.Context(t, time.Minute)
	projects := w.db.Collection(w.cfg.Mongo.Collection)
	if _, err := projects.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "p1"}, {Key: "name", Value: "A"}},
		bson.D{{Key: "_id", Value: "p2"}, {Key: "name", Value: "B1"}},
	}); err != nil {
		t.Fatal(err)
	}
	firestoretest.Seed(t, w.fs, "storyboards", map[string]map[string]any{
		"a": {"projectId": "p1", "projectName": "stale"},
		"b": {"projectId": "p2", "projectName": "stale"},
	})
	var first atomic.Bool
	hook := func(_ string, req any) {
		if !writesDoc(req, "/documents/storyboards/a") || !first.CompareAndSwap(false, true) {
			return
		}
		if _, err := projects.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: "p2"}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "B2"}}}}); err != nil {
			t.Error(err)
		}
		if _, err := w.fs.Doc("storyboards/b").Set(context.Background(), map[string]any{"projectId": "p2", "projectName": "B2"}); err != nil {
			t.Error(err)
		}
	}
	d := open(t, w.cfg, zerolog.Nop())
	throughFirestore(t, d, hook)
	r, err := d.NewReconciler(reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if !first.Load() {
		t.Fatal("p1 was not repaired")
	}
	doc, _ := firestoretest.Get(t, w.fs, "storyboards/b")
	if got := doc["projectName"]; got != "B2" {
		t.Errorf("p2's projectName %v after its rename to B2: its repair wrote the value of the batch's lookup", got)
	}
}
