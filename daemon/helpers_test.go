package daemon

import (
	"context"
	"io"
	"net"
	"net/http"
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
	srv *mongotest.Server // nil against a real replica set (no faults)
}

// newWorld returns a valid configuration for the test's MongoDB database
// and Firestore project: one storyboards collection, small retry backoffs,
// the HTTP server on a free loopback port.
func newWorld(t *testing.T) world {
	t.Helper()
	fs, projectID := firestoretest.Client(t)
	db, uri, srv := watchertest.MongoURI(t)
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
	return world{cfg: cfg, db: db, fs: fs, srv: srv}
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
	r, err := build(d, prometheus.NewRegistry(), log, runOptions{})
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

// started is a daemon Run by startRun: its HTTP address, its logs, and
// Run's result (err, once done is closed).
type started struct {
	addr string
	logs *watchertest.LogBuffer
	done chan struct{}
	err  error
}

// startRun runs Run on cfg (on a free loopback port) until the test ends
// or stop is called, and returns at once.
func startRun(t *testing.T, cfg config.Config) (*started, context.CancelFunc) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Addr = l.Addr().String()
	_ = l.Close()
	s := &started{addr: cfg.HTTP.Addr, logs: &watchertest.LogBuffer{}, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(s.done)
		s.err = Run(ctx, cfg, zerolog.New(s.logs).With().Timestamp().Logger())
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(time.Minute):
			t.Errorf("Run did not return within a minute of the cancel; logs:\n%s", s.logs.String())
		}
	})
	return s, cancel
}

// get GETs path on the daemon: status code and body (0 and the error
// while it does not listen).
func (s *started) get(path string) (int, string) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + s.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond for up to d and fails the test with what and the
// daemon's logs when it does not hold by then (a guard against hanging).
func (s *started) waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out (%s) waiting for %s; logs:\n%s", d, what, s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
