package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/crashpoint"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The leader publishes, three workers apply: under a load of creates,
// renames (often several in a row) and deletes, Firestore ends consistent
// with MongoDB (renames on the last value), and each worker applies a
// project's events in stream order. A delete over safety.maxDocsPerEvent
// is a worker's dead letter, which `watcher dlq list` shows and `dlq
// retry --force` applies.
func TestBusLeaderAndThreeWorkersEndConsistent(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	s := w.busSetup(t, "safety:\n  maxDocsPerEvent: 100\n")
	runBusSetup(t, s)
	load := newWorkload(t, w)
	load.seedProjects(ctx, 12)
	big := w.addProjectAssets(ctx, "big", 150)

	leader := startDaemon(t, s)
	leader.waitReady(30 * time.Second)
	workers := startWorkers(t, s, 3)
	load.run(ctx, 80)
	w.deleteProject(ctx, big)
	t.Logf("workload: %v", load)

	bigAssets := w.assets[big]
	delete(w.assets, big) // stays as it is (the limit) until the retry below
	eventually(t, catchUpTimeout, func(ctx context.Context) error {
		letters, err := w.deadLetterColl().all(ctx)
		if err != nil {
			return err
		}
		if n := countDeadLettersFor(letters, mustOID(t, big), "safety-limit"); n != 1 {
			return fmt.Errorf("%d safety-limit dead letters of the big project, want 1", n)
		}
		return w.consistent(ctx)
	})
	checkWorkerOrder(t, workers...)

	cfg, _ := s.writeConfig(t)
	out, code := runCommand(t, s, "dlq", "list", "--json", "-c", cfg)
	var listed []struct{ ID, Reason, ProjectID string }
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 1 || listed[0].ProjectID != big {
		t.Fatalf("dlq list: exit %d\n%s", code, out)
	}
	if out, code := runCommand(t, s, "dlq", "retry", listed[0].ID, "--force", "-c", cfg); code != 0 || !strings.Contains(out, "applied") {
		t.Fatalf("dlq retry --force: exit %d\n%s", code, out)
	}
	w.assets[big] = bigAssets
	if err := w.consistent(ctx); err != nil {
		t.Errorf("after dlq retry: %v", err)
	}
	stopAll(append(workers, leader)...)
}

// checkWorkerOrder: within each worker, a project's events are first
// applied in increasing cluster time (a redelivery of one already applied
// may come later).
func checkWorkerOrder(t *testing.T, workers ...*daemon) {
	t.Helper()
	type line struct {
		ProjectID    string `json:"projectId"`
		EventID      string `json:"eventId"`
		Message      string `json:"message"`
		ClusterTimeT uint32 `json:"clusterTimeT"`
		ClusterTimeI uint32 `json:"clusterTimeI"`
	}
	applied := 0
	for i, wk := range workers {
		last := map[string][2]uint32{}
		seen := map[string]bool{}
		for _, raw := range strings.Split(wk.logs.String(), "\n") {
			var l line
			if json.Unmarshal([]byte(raw), &l) != nil || l.Message != "event applied" || seen[l.EventID] {
				continue
			}
			seen[l.EventID] = true
			applied++
			at := [2]uint32{l.ClusterTimeT, l.ClusterTimeI}
			if prev, ok := last[l.ProjectID]; ok && (at[0] < prev[0] || at[0] == prev[0] && at[1] < prev[1]) {
				t.Errorf("worker %d applied event %s of project %s (cluster time %v) after one of %v", i, l.EventID, l.ProjectID, at, prev)
			}
			last[l.ProjectID] = at
		}
		t.Logf("worker %d applied %d events of %d projects", i, len(seen), len(last))
	}
	if applied == 0 {
		t.Error("no worker logged an applied event")
	}
}

// A worker killed (SIGKILL, at the crash point in the middle of a cleanup)
// leaves its message unanswered: Pub/Sub delivers it again, to one of the
// three workers started after, which completes the cleanup.
func TestBusWorkerKilledMidCleanupIsRedeliveredAndCompleted(t *testing.T) {
	bin, err := crashpointBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := newWorld(t)
	s := w.busSetup(t, "")
	runBusSetup(t, s)
	big := w.addProjectAssets(ctx, "big", 3000)
	w.addProject(ctx, "kept", "blue", 2, true)
	leader := startDaemon(t, s)
	leader.waitReady(30 * time.Second)
	crashing := s
	crashing.bin = bin
	doomed := startWorker(t, crashing, crashpoint.EnvVar+"=mid-cleanup:1")
	doomed.waitReady(30 * time.Second)
	w.deleteProject(ctx, big)
	doomed.wait(catchUpTimeout)
	if !doomed.killedBySIGKILL() || !contains(doomed.logs.String(), "crashpoint: killing the process") {
		t.Fatalf("the worker ended with %d, not at the crash point", doomed.exitCode)
	}
	if n := w.countAll(ctx, "aiAnalyses"); n < 1002 || n > 2502 {
		t.Fatalf("%d aiAnalyses at the kill, want the cleanup half done (1,000 to 2,500 of 3,000 left, +2 kept)", n)
	}
	killedAt := time.Now()
	workers := startWorkers(t, s, 3)
	// Redelivery waits for the killed worker's lease on the message to lapse
	// (the subscription's 10 s ack deadline, or the client's last extension
	// of at most 20 s), then the cleanup runs again.
	eventually(t, 3*time.Minute, func(ctx context.Context) error {
		select {
		case <-leader.done:
			t.Fatalf("the leader exited with %d before Firestore was consistent", leader.exitCode)
		default:
		}
		return w.consistent(ctx)
	})
	t.Logf("consistent %v after the kill", time.Since(killedAt).Round(100*time.Millisecond))
	if n := sumMetric(t, "watcher_bus_redeliveries_total", workers...); n < 1 {
		t.Errorf("watcher_bus_redeliveries_total summed over the workers = %v, want the killed worker's message delivered again", n)
	}
	stopAll(append(workers, leader)...)
}

// The leader killed after Pub/Sub acknowledged an event and before its
// checkpoint passed it publishes the event again when it restarts (same
// event id): the workers apply it again, and it writes nothing a second
// time.
func TestBusPublisherKilledBeforeCheckpointReplaysWithoutASecondEffect(t *testing.T) {
	bin, err := crashpointBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := newWorld(t)
	s := w.busSetup(t, "")
	runBusSetup(t, s)
	p1 := w.addProject(ctx, "p1", "red", 2, true)
	p2 := w.addProject(ctx, "p2", "red", 2, false)
	workers := startWorkers(t, s, 3)
	crashing := s
	crashing.bin = bin
	first := startDaemon(t, crashing, crashpoint.EnvVar+"=after-apply-before-checkpoint:3")
	first.waitReady(30 * time.Second)
	w.updateProject(ctx, p1, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "p1 v2"}}}})
	w.deleteProject(ctx, p2)
	w.updateProject(ctx, p1, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "p1 v3"}}}})
	first.wait(catchUpTimeout)
	if !first.killedBySIGKILL() {
		t.Fatalf("the leader ended with %d, not at the crash point", first.exitCode)
	}
	pubs := published(first)
	if len(pubs) != 3 || pubs[2][0] != p1 {
		t.Fatalf("the killed leader published %v, want 3 events, the last p1's rename", pubs)
	}
	last := pubs[2][2]
	eventually(t, catchUpTimeout, func(ctx context.Context) error { return w.consistent(ctx) })
	if n := len(appliedLines(last, workers...)); n != 1 {
		t.Fatalf("the last event was applied %d times before the restart, want 1", n)
	}
	before := w.updateTimes(ctx, p1)

	second := startDaemon(t, s)
	second.waitReady(30 * time.Second)
	eventually(t, catchUpTimeout, func(context.Context) error {
		if n := len(appliedLines(last, workers...)); n < 2 {
			return fmt.Errorf("the replayed event applied %d times so far (published again: %v)", n, published(second))
		}
		return nil
	})
	if !slices.ContainsFunc(published(second), func(p [3]string) bool { return p[2] == last }) {
		t.Errorf("the restarted leader did not publish event %s again: %v", last, published(second))
	}
	replay := appliedLines(last, workers...)[1]
	if !contains(replay, `"written":0`) {
		t.Errorf("the replay wrote documents: %s", replay)
	}
	if after := w.updateTimes(ctx, p1); !maps.Equal(before, after) {
		t.Errorf("p1's assets were written again by the replay:\nbefore %v\nafter  %v", before, after)
	}
	if err := w.consistent(ctx); err != nil {
		t.Error(err)
	}
	stopAll(append(workers, second)...)
}
