package deploy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/daemon"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/pubsubtest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// exportedBus returns the metric names the two sides of the event bus
// serve: daemon.Run with bus.mode publish (what `watcher run` runs) and
// daemon.RunWorker (`watcher worker`), against the in-process MongoDB
// server and the Firestore and Pub/Sub emulators, after one project delete
// went through the bus.
func exportedBus(t *testing.T) map[string]bool {
	t.Helper()
	pubsubtest.RequireEmulator(t)
	fs, fsProject := firestoretest.Client(t)
	uri, _ := mongotest.ForTest(t)
	db := mongotest.DBName(t)
	cfg := config.Defaults()
	cfg.Mongo.URI, cfg.Mongo.Database = uri, db
	cfg.Resume.Database, cfg.DeadLetter.Database = db, db
	cfg.Firestore.ProjectID = fsProject
	cfg.Bus.Mode = config.BusPublish
	pubsubtest.Setup(t, pubsubtest.Client(t, fsProject), fsProject, cfg.Bus)
	leader := serveUntilCleanup(t, cfg, daemon.Run)
	worker := serveUntilCleanup(t, cfg, daemon.RunWorker)

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
	if _, err := projects.InsertOne(ctx, bson.D{{Key: "_id", Value: oid}}); err != nil {
		t.Fatal(err)
	}
	if _, err := projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}}); err != nil {
		t.Fatal(err)
	}
	applied := `watcher_bus_messages_handled_total{outcome="applied",type="ProjectDeleted"} 1`
	var body string
	for ctx.Err() == nil && !strings.Contains(body, applied) {
		time.Sleep(200 * time.Millisecond)
		body = get(t, "http://"+worker+"/metrics")
	}
	if !strings.Contains(body, applied) {
		t.Fatalf("the worker applied no delete within a minute; /metrics:\n%s", body)
	}
	names := metricNames(body + get(t, "http://"+leader+"/metrics"))
	for _, want := range []string{"watcher_bus_published_total", "watcher_bus_worker_lag_seconds_bucket"} {
		if !names[want] {
			t.Fatalf("no %s on the leader's or the worker's /metrics", want)
		}
	}
	return names
}

// metricNames are the families of a /metrics body, a histogram's
// _bucket, _sum and _count included.
func metricNames(body string) map[string]bool {
	names := map[string]bool{}
	for _, m := range typeLine.FindAllStringSubmatch(body, -1) {
		names[m[1]] = true
		if m[2] == "histogram" || m[2] == "summary" {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+suf] = true
			}
		}
	}
	return names
}
