package deploy

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/daemon"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// typeLine is one family's "# TYPE name kind" line of the text format.
var typeLine = regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)$`)

// exported returns the metric names the daemon serves: it runs daemon.Run
// (what `watcher run` runs) against the in-process MongoDB server and the
// Firestore emulator, lets it apply one project delete, and reads the
// families of a /metrics scrape; histograms add their _bucket, _sum and
// _count series. A label vector is served only once it has a series: the
// daemon creates its known label values at zero, and the delete creates
// those that depend on the data (collection, action).
func exported(t *testing.T) map[string]bool {
	t.Helper()
	fs, fsProject := firestoretest.Client(t)
	uri, _ := mongotest.ForTest(t)
	db := mongotest.DBName(t)
	addr := startDaemon(t, uri, db, fsProject)
	body := applyOneDelete(t, fs, uri, db, addr, `watcher_firestore_documents_total{`)
	names := map[string]bool{}
	for _, m := range typeLine.FindAllStringSubmatch(body, -1) {
		names[m[1]] = true
		if m[2] == "histogram" || m[2] == "summary" {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+suf] = true
			}
		}
	}
	if !names["watcher_leader"] {
		t.Fatalf("the daemon's /metrics has no watcher_leader; it served:\n%s", body)
	}
	return names
}

// startDaemon runs the daemon with the built-in defaults pointed at this
// test's databases, until the test ends, and returns its HTTP address once
// /readyz answers 200 (or after 60 s, logging what it said).
func startDaemon(t *testing.T, uri, db, fsProject string) string {
	t.Helper()
	cfg := config.Defaults()
	cfg.Mongo.URI, cfg.Mongo.Database = uri, db
	cfg.Resume.Database, cfg.DeadLetter.Database = db, db
	cfg.Firestore.ProjectID = fsProject
	return serveUntilCleanup(t, cfg, daemon.Run)
}

// serveUntilCleanup runs run (daemon.Run, daemon.RunWorker) with cfg on a
// free address until the test ends, and returns the address once /readyz
// answers 200 (or after 60 s, logging what it said: the scrape shows more).
func serveUntilCleanup(t *testing.T, cfg config.Config, run func(context.Context, config.Config, zerolog.Logger, ...daemon.RunOption) error) string {
	t.Helper()
	cfg.HTTP.Addr = freeAddr(t)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(time.Minute):
			t.Error("did not stop within a minute of its context's end")
		}
	})
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(time.Minute)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("returned before it was ready: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := client.Get("http://" + cfg.HTTP.Addr + "/readyz")
		if err != nil {
			last = err.Error()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return cfg.HTTP.Addr
		}
		last = resp.Status + ": " + string(b)
	}
	t.Logf("%s was not ready within a minute (/readyz: %s); scraping it anyway", cfg.HTTP.Addr, last)
	return cfg.HTTP.Addr
}

// applyOneDelete deletes a project that has one storyboard, waits until
// the /metrics of addr (the daemon, or a worker) contain until, and returns
// that scrape.
func applyOneDelete(t *testing.T, fs *firestore.Client, uri, db, addr, until string) string {
	t.Helper()
	mc, err := mongo.Connect(mongotest.ClientOptions(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	oid := bson.NewObjectID()
	firestoretest.Seed(t, fs, "storyboards", map[string]map[string]any{oid.Hex(): {"projectId": oid.Hex()}})
	projects := mc.Database(db).Collection("projects")
	if _, err := projects.InsertOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: "p"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}}); err != nil {
		t.Fatal(err)
	}
	var body string
	for ctx.Err() == nil {
		if body = get(t, "http://"+addr+"/metrics"); strings.Contains(body, until) {
			return body
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s applied no delete within a minute (no %s); /metrics:\n%s", addr, until, body)
	return ""
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", url, resp.Status, err, b)
	}
	return string(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
