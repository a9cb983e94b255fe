package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// reconcileOnLoss makes the daemon repair a lost history instead of failing.
const reconcileOnLoss = "WATCHER_RESUME_ONHISTORYLOST=reconcile"

// reconcileResult is one `watcher reconcile` run.
type reconcileResult struct {
	code   int
	stdout string
	stderr string
}

// runReconcile runs `watcher reconcile -c config args...` to the end.
func runReconcile(t *testing.T, s setup, args ...string) reconcileResult {
	t.Helper()
	cfgPath, _ := s.writeConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"reconcile", "-c", cfgPath}, args...)...)
	cmd.Env = os.Environ()
	var stdout, stderr watchertest.LogBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := reconcileResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("watcher reconcile: %v", err)
	}
	return res
}

// totals decodes the totals of a --json summary.
func (r reconcileResult) totals(t *testing.T) (scanned, orphans, drifted, repaired int) {
	t.Helper()
	var sum struct {
		Totals struct {
			Scanned  int `json:"scanned"`
			Orphans  int `json:"orphans"`
			Drifted  int `json:"drifted"`
			Repaired int `json:"repaired"`
		} `json:"totals"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("reconcile --json printed no JSON summary (%v):\nstdout %s\nstderr %s", err, r.stdout, r.stderr)
	}
	return sum.Totals.Scanned, sum.Totals.Orphans, sum.Totals.Drifted, sum.Totals.Repaired
}

// addOrphan writes an aiAnalyses asset for a project that does not exist
// (written by an AI service after the project was deleted).
func (w *world) addOrphan(ctx context.Context) *firestore.DocumentRef {
	w.t.Helper()
	gone := bson.NewObjectID().Hex()
	ref := w.fs.Collection("aiAnalyses").Doc(gone + "-late")
	if _, err := ref.Set(ctx, map[string]any{"projectId": gone, "projectName": "late"}); err != nil {
		w.t.Fatal(err)
	}
	w.assets[gone] = append(w.assets[gone], ref)
	return ref
}

func TestReconcileCommandDryRunThenRepair(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	keep := w.addProject(ctx, "keep", "red", 2, false)
	renamed := w.addProject(ctx, "old name", "blue", 2, false)
	deleted := w.addProject(ctx, "deleted", "green", 2, true)
	// No daemon runs: these changes reach Firestore only by reconciliation.
	w.deleteProject(ctx, deleted)
	w.updateProject(ctx, renamed, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "new name"}, {Key: "owner.team", Value: "teal"}}}})
	orphan := w.addOrphan(ctx)
	_ = keep

	dry := runReconcile(t, w.setup(), "--dry-run", "--json")
	if dry.code != 1 {
		t.Fatalf("--dry-run with inconsistencies exited %d, want 1\n%s", dry.code, dry.stderr)
	}
	// 3 projects x 2 assets x 3 collections, plus the late orphan.
	scanned, orphans, drifted, repaired := dry.totals(t)
	if scanned != 19 || orphans != 7 || drifted != 6 || repaired != 0 {
		t.Errorf("dry run: scanned %d orphans %d drifted %d repaired %d; want 19, 7, 6, 0", scanned, orphans, drifted, repaired)
	}
	if err := w.consistent(ctx); err == nil {
		t.Fatal("the dry run changed Firestore: it is already consistent")
	}
	if _, err := orphan.Get(ctx); err != nil {
		t.Fatalf("the dry run removed the orphan: %v", err)
	}

	fix := runReconcile(t, w.setup())
	if fix.code != 0 {
		t.Fatalf("reconcile exited %d, want 0\nstdout %s\nstderr %s", fix.code, fix.stdout, fix.stderr)
	}
	t.Logf("watcher reconcile:\n%s", fix.stdout)
	for _, want := range []string{"COLLECTION", "storyboards", "aiAnalyses", "generatedMedia", "total"} {
		if !strings.Contains(fix.stdout, want) {
			t.Errorf("the summary table lacks %q:\n%s", want, fix.stdout)
		}
	}
	if err := w.consistent(ctx); err != nil {
		t.Fatalf("after reconcile: %v", err)
	}

	again := runReconcile(t, w.setup(), "--dry-run")
	if again.code != 0 {
		t.Fatalf("--dry-run on a consistent dataset exited %d, want 0\n%s\n%s", again.code, again.stdout, again.stderr)
	}
}

func TestReconcileCommandOrphansOnly(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	renamed := w.addProject(ctx, "old", "red", 1, false)
	w.updateProject(ctx, renamed, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "new"}}}})
	orphan := w.addOrphan(ctx)
	res := runReconcile(t, w.setup(), "--orphans", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if _, orphans, drifted, _ := res.totals(t); orphans != 1 || drifted != 0 {
		t.Errorf("orphans %d drifted %d, want 1 and 0 (drift not looked for)", orphans, drifted)
	}
	if _, err := orphan.Get(ctx); err == nil {
		t.Error("the orphan is still there")
	}
	if got := w.field(ctx, "aiAnalyses/"+renamed+"-ai-0", "projectName"); got != "old" {
		t.Errorf("--orphans rewrote a copy: projectName %v", got)
	}
}

func TestPeriodicReconcileRemovesLateOrphans(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.addProject(ctx, "p", "red", 1, false)
	s := w.setup()
	s.extraConfig = "reconcile:\n  interval: \"500ms\"\n"
	d := startDaemon(t, s)
	d.waitReady(30 * time.Second)
	orphan := w.addOrphan(ctx)
	eventually(t, applyTimeout, func(ctx context.Context) error {
		if _, err := orphan.Get(ctx); err == nil {
			return errors.New("the late orphan is still there")
		}
		return w.consistent(ctx)
	})
	eventually(t, 10*time.Second, func(context.Context) error {
		_, body, err := d.get("/metrics")
		if err != nil {
			return err
		}
		for _, m := range []string{"watcher_reconcile_orphans_found_total", "watcher_reconcile_orphans_repaired_total"} {
			if v := metricValue(body, m); v < 1 {
				return fmt.Errorf("%s = %v, want >= 1", m, v)
			}
		}
		if v := metricValue(body, "watcher_reconcile_last_run_timestamp_seconds"); v <= 0 {
			return fmt.Errorf("no last run time: %v", v)
		}
		return nil
	})
	d.stop()
}

// metricValue reads an unlabelled sample from a /metrics body (-1: absent).
func metricValue(body, name string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

func TestLostHistoryFailThenReconcile(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	mongotest.RequireFaults(t, w.srv)
	kept := w.addProject(ctx, "kept", "red", 1, false)
	renamed := w.addProject(ctx, "old", "blue", 1, true)
	deleted := w.addProject(ctx, "deleted", "green", 1, true)
	big := w.addProjectAssets(ctx, "big", 1500) // keeps the repair busy long enough to see /readyz
	d := startDaemon(t, w.setup())
	d.waitReady(30 * time.Second)
	w.updateProject(ctx, kept, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "kept 2"}}}})
	eventually(t, applyTimeout, w.consistent)
	d.stop()

	// While the watcher is down: a delete, a rename, and the history is trimmed past the stored token.
	w.deleteProject(ctx, deleted)
	w.deleteProject(ctx, big)
	w.updateProject(ctx, renamed, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "new"}}}})
	w.srv.TrimHistory()

	failing := startDaemon(t, w.setup()) // onHistoryLost: fail (the default)
	if code := failing.wait(30 * time.Second); code != 1 {
		t.Fatalf("with onHistoryLost fail: exit %d, want 1", code)
	}
	if _, err := w.fs.Doc("aiAnalyses/" + deleted + "-ai-0").Get(ctx); err != nil {
		t.Fatalf("onHistoryLost fail changed Firestore: %v", err)
	}
	if got := w.field(ctx, "aiAnalyses/"+renamed+"-ai-0", "projectName"); got != "old" {
		t.Fatalf("onHistoryLost fail rewrote a copy: %v", got)
	}

	d2 := startDaemon(t, w.setup(), reconcileOnLoss)
	var sawReconciling atomic.Bool
	stopPolling := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-stopPolling:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if code, body, err := d2.get("/readyz"); err == nil && code != 200 && strings.Contains(body, "reconciling after lost history") {
				sawReconciling.Store(true)
			}
		}
	}()
	eventually(t, 2*time.Minute, w.consistent)
	d2.waitReady(30 * time.Second)
	close(stopPolling)
	<-polled
	if !sawReconciling.Load() {
		t.Error(`/readyz never said "reconciling after lost history" while the repair ran`)
	}
	logs := d2.logs.String()
	if !regexp.MustCompile(`"level":"warn"[^\n]*history lost`).MatchString(logs) {
		t.Errorf("no warn-level log of the lost history:\n%s", logs)
	}
	// The new stream follows events again.
	w.updateProject(ctx, kept, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "kept 3"}}}})
	eventually(t, applyTimeout, w.consistent)
	d2.stop()

	// The repair finished, so the new position was stored: a restart resumes without loss.
	d3 := startDaemon(t, w.setup())
	d3.waitReady(30 * time.Second)
	d3.stop()
}
