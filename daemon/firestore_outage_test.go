package daemon

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/tcpproxy"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// statusOf reads /status.
func statusOf(t *testing.T, d *started) statusDoc {
	t.Helper()
	code, body := d.get("/status")
	var doc statusDoc
	if code != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil {
		t.Fatalf("/status: %d %s", code, body)
	}
	return doc
}

// TestFirestoreOutageIsVisibleAndClears: Firestore stops answering (a
// blackholed proxy in front of the emulator) while a delete is to be
// applied. Within seconds /readyz fails naming Firestore and the limit,
// watcher_firestore_up is 0, watcher_firestore_errors_total counts
// DeadlineExceeded and /status shows the current Firestore error. Once
// Firestore answers again the delete is applied, /readyz is 200, the
// current error is gone and the last error stays, with its time.
func TestFirestoreOutageIsVisibleAndClears(t *testing.T) {
	w := newWorld(t)
	p, err := tcpproxy.Start(firestoretest.RequireEmulator(t), tcpproxy.WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	t.Setenv(firestoretest.EmulatorEnv, p.Addr())
	w.cfg.Firestore.CallTimeout = time.Second
	w.cfg.Retry.MaxAttempts = 1000 // the outage is not to use up the event's attempts here
	ctx := watchertest.Context(t, 2*time.Minute)
	projects := w.db.Collection(w.cfg.Mongo.Collection)
	if _, err := projects.InsertOne(ctx, bson.D{{Key: "_id", Value: "p1"}}); err != nil {
		t.Fatal(err)
	}
	firestoretest.Seed(t, w.fs, "storyboards", map[string]map[string]any{"a": {"projectId": "p1"}})

	d, _ := startRun(t, w.cfg)
	d.waitFor(t, 30*time.Second, "/readyz 200", func() bool { code, _ := d.get("/readyz"); return code == http.StatusOK })
	if doc := statusOf(t, d); doc.Errors.Firestore != nil || doc.Errors.Mongo != nil || doc.Errors.ChangeStream != nil {
		t.Fatalf("/status of a healthy daemon has current errors: %+v", doc.Errors)
	}

	p.Blackhole()
	outage := time.Now()
	deleteProject(t, ctx, projects, "p1")
	var body string
	d.waitFor(t, 20*time.Second, "/readyz to fail on Firestore", func() bool {
		var code int
		code, body = d.get("/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "firestore: error: Firestore calls failing since")
	})
	t.Logf("/readyz failed %s after the blackhole:\n%s", time.Since(outage).Round(time.Millisecond), body)
	if !strings.Contains(body, "no answer from Firestore within firestore.callTimeout (1s)") {
		t.Errorf("/readyz does not name the limit:\n%s", body)
	}
	_, metrics := d.get("/metrics")
	if !strings.Contains(metrics, "watcher_firestore_up 0") || strings.Contains(metrics, `watcher_firestore_errors_total{code="DeadlineExceeded"} 0`) {
		t.Errorf("/metrics during the outage: want watcher_firestore_up 0 and DeadlineExceeded errors counted:\n%s", grepLines(metrics, "watcher_firestore_"))
	}
	doc := statusOf(t, d)
	if doc.Errors.Firestore == nil || !strings.Contains(*doc.Errors.Firestore, "no answer from Firestore") {
		t.Errorf("/status errors.firestore = %v during the outage", doc.Errors.Firestore)
	}
	if doc.LastError == "" || doc.LastErrorAt == "" {
		t.Errorf("/status lastError %q at %q during the outage", doc.LastError, doc.LastErrorAt)
	}

	p.Restore()
	d.waitFor(t, 60*time.Second, "the delete to be applied after the outage", func() bool {
		return len(firestoretest.ReadAll(t, w.fs, "storyboards")) == 0
	})
	d.waitFor(t, 20*time.Second, "/readyz 200 after the outage", func() bool { code, _ := d.get("/readyz"); return code == http.StatusOK })
	doc = statusOf(t, d)
	if doc.Errors.Firestore != nil {
		t.Errorf("/status errors.firestore = %q after Firestore recovered, want null", *doc.Errors.Firestore)
	}
	at, err := time.Parse(time.RFC3339, doc.LastErrorAt)
	if doc.LastError == "" || err != nil || at.Before(outage.Add(-time.Second)) {
		t.Errorf("/status lastError %q at %q (%v): want the outage's error with its RFC 3339 time", doc.LastError, doc.LastErrorAt, err)
	}
	if _, metrics := d.get("/metrics"); !strings.Contains(metrics, "watcher_firestore_up 1") {
		t.Errorf("watcher_firestore_up is not 1 after the outage:\n%s", grepLines(metrics, "watcher_firestore_up"))
	}
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
