package deploy

import (
	"testing"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/daemon"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/pubsubtest"
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

	body := applyOneDelete(t, fs, uri, db, worker, `watcher_bus_messages_handled_total{outcome="applied",type="ProjectDeleted"} 1`)
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
