package daemon

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// world is what a daemon test runs against: a MongoDB database of its own
// (internal/mongotest, or WATCHER_TEST_MONGO_URI), a Firestore project of
// its own on the emulator, and a configuration pointing at both.
type world struct {
	cfg config.Config
	db  *mongo.Database   // the test's view: projects, checkpoints, dead letters
	fs  *firestore.Client // the test's view of the Firestore project
}

// newWorld returns a valid configuration for the test's MongoDB database
// and Firestore project: one storyboards collection, small retry backoffs,
// the HTTP server on a free loopback port.
func newWorld(t *testing.T) world {
	t.Helper()
	fs, projectID := firestoretest.Client(t)
	uri, _ := mongotest.ForTest(t)
	mc, err := mongo.Connect(mongotest.ClientOptions(uri))
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	db := mc.Database(mongotest.DBName(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = mc.Disconnect(ctx)
	})
	cfg := config.Defaults()
	cfg.Mongo.URI = uri
	cfg.Mongo.Database, cfg.Resume.Database, cfg.DeadLetter.Database = db.Name(), db.Name(), db.Name()
	cfg.Firestore.ProjectID = projectID
	cfg.Sync.Collections = []config.Collection{{Name: "storyboards"}}
	cfg.Retry.InitialBackoff, cfg.Retry.MaxBackoff = 10*time.Millisecond, 100*time.Millisecond
	cfg.Resume.CheckpointInterval = 50 * time.Millisecond
	cfg.HTTP.Addr = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the test's configuration is invalid: %v", err)
	}
	return world{cfg: cfg, db: db, fs: fs}
}

// open opens a Daemon on cfg, closed when the test ends.
func open(t *testing.T, cfg config.Config, log zerolog.Logger) *Daemon {
	t.Helper()
	d, err := Open(watchertest.Context(t, 30*time.Second), cfg, log)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// buildFor opens and builds the daemon on cfg without running it; what
// build started (the listener, the reconciliation's context) is stopped
// when the test ends.
func buildFor(t *testing.T, cfg config.Config, log zerolog.Logger) (*Daemon, *running) {
	t.Helper()
	d := open(t, cfg, log)
	r, err := build(d, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Cleanup(func() {
		r.rec.stop()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = r.hs.Serve(ctx) // closes the listener build opened
	})
	return d, r
}
