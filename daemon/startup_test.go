package daemon

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestStartWithMongoDBDownGivesUpWithOneMessage: nothing answers at the
// MongoDB URI. The daemon says it connects (the URI redacted), logs each
// failed attempt with its reason within seconds, keeps trying for
// mongo.startupTimeout, and then returns one error that names the
// redacted URI, the limit and the reason, without repeating itself.
func TestStartWithMongoDBDownGivesUpWithOneMessage(t *testing.T) {
	w := newWorld(t)
	w.cfg.Mongo.URI = "mongodb://alice:s3cr3tpw@" + deadAddr(t) + "/?directConnection=true"
	w.cfg.Mongo.StartupTimeout = 4 * time.Second
	start := time.Now()
	d, _ := startRun(t, w.cfg)
	d.waitFor(t, 10*time.Second, "a failed attempt in the logs", func() bool {
		return strings.Contains(d.logs.String(), "MongoDB does not answer yet")
	})
	t.Logf("first failed attempt logged %s after the start", time.Since(start).Round(time.Millisecond))
	select {
	case <-d.done:
	case <-time.After(w.cfg.Mongo.StartupTimeout + 10*time.Second):
		t.Fatalf("Run still waits %s after the start (mongo.startupTimeout %s); logs:\n%s",
			time.Since(start), w.cfg.Mongo.StartupTimeout, d.logs.String())
	}
	logs, err := d.logs.String(), d.err
	if err == nil {
		t.Fatalf("Run returned nil with MongoDB down; logs:\n%s", logs)
	}
	msg := err.Error()
	want := "MongoDB at mongodb://alice:xxxxx@"
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, "did not answer within mongo.startupTimeout (4s)") ||
		!strings.Contains(msg, "connection refused") {
		t.Errorf("error %q: want it to start %q, name the limit and the reason", msg, want)
	}
	if strings.Count(msg, "checkpoint") > 0 || strings.Count(msg, "MongoDB at") != 1 {
		t.Errorf("error %q stutters or names a later step", msg)
	}
	if strings.Contains(msg+logs, "s3cr3tpw") {
		t.Errorf("the password leaks:\n%s\n%s", msg, logs)
	}
	connecting := strings.Index(logs, `"message":"connecting to MongoDB mongodb://alice:xxxxx@`)
	failed := strings.Index(logs, "MongoDB does not answer yet")
	if connecting < 0 || connecting > failed {
		t.Errorf("no \"connecting to MongoDB <redacted URI>\" line before the first failed attempt:\n%s", logs)
	}
	if !strings.Contains(msg, "2 attempts") {
		t.Errorf("error %q: want 2 attempts in 4 s (one every few seconds)", msg)
	}
}

// TestStartWaitsForMongoDB: MongoDB refuses connections for a few seconds
// after the start. The daemon is alive and not ready meanwhile, logs the
// failed attempts, then connects and applies a delete.
func TestStartWaitsForMongoDB(t *testing.T) {
	w := newWorld(t)
	mongotest.RequireFaults(t, w.srv)
	w.cfg.Resume.StartAt = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	ctx := watchertest.Context(t, 2*time.Minute)
	projects := w.db.Collection(w.cfg.Mongo.Collection)
	if _, err := projects.InsertOne(ctx, bson.D{{Key: "_id", Value: "p1"}}); err != nil {
		t.Fatal(err)
	}
	firestoretest.Seed(t, w.fs, "storyboards", map[string]map[string]any{"a": {"projectId": "p1"}})
	deleteProject(t, ctx, projects, "p1")
	w.srv.DropConnections()
	w.srv.RefuseConnections(10 * time.Second)

	d, _ := startRun(t, w.cfg)
	d.waitFor(t, 10*time.Second, "a failed attempt in the logs", func() bool {
		return strings.Contains(d.logs.String(), "MongoDB does not answer yet")
	})
	if code, body := d.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "mongo: error") {
		t.Errorf("/readyz while MongoDB refuses: %d\n%s", code, body)
	}
	if code, body := d.get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while waiting for MongoDB: %d\n%s", code, body)
	}
	if doc := statusOf(t, d); doc.Errors.Mongo == nil || doc.Errors.ChangeStream == nil || !strings.Contains(doc.LastError, "connecting to MongoDB") {
		t.Errorf("/status while MongoDB refuses: errors %+v, lastError %q; want the MongoDB and stream errors", doc.Errors, doc.LastError)
	}
	d.waitFor(t, 30*time.Second, "the delete to be applied", func() bool {
		return len(firestoretest.ReadAll(t, w.fs, "storyboards")) == 0
	})
	if doc := statusOf(t, d); doc.Errors.Mongo != nil || doc.Errors.ChangeStream != nil || doc.LastError == "" {
		t.Errorf("/status after MongoDB answered: errors mongo %v, changeStream %v, lastError %q; want the current errors cleared, the last one kept",
			deref(doc.Errors.Mongo), deref(doc.Errors.ChangeStream), doc.LastError)
	}
	if !strings.Contains(d.logs.String(), `"message":"connected to MongoDB"`) {
		t.Errorf("no \"connected to MongoDB\" line:\n%s", d.logs.String())
	}
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}
