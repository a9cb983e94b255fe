package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

const applyTimeout = 30 * time.Second

func TestDeleteRemovesExactlyTheProjectsAssets(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	doomed := w.addProject(ctx, "doomed", "red", 5, true)
	kept := w.addProject(ctx, "kept", "blue", 5, true)
	d := startDaemon(t, w.setup())
	d.waitReady(30 * time.Second)

	w.deleteProject(ctx, doomed)
	eventually(t, applyTimeout, w.consistent)
	if n := len(w.assets[kept]); n != 25 {
		t.Fatalf("fixture: kept project has %d documents, want 25", n)
	}
	// Every document of the kept project, subcollections included, is still there.
	for _, ref := range w.assets[kept] {
		if _, err := ref.Get(ctx); err != nil {
			t.Fatalf("%s: %v", relPath(ref), err)
		}
	}
	if got := w.countAll(ctx, "shots"); got != 5 {
		t.Fatalf("shots left: %d, want the kept project's 5", got)
	}
	d.stop()
}

func TestRenameRewritesCopiesOfThatProjectOnly(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a := w.addProject(ctx, "alpha", "red", 3, false)
	b := w.addProject(ctx, "beta", "blue", 3, false)
	d := startDaemon(t, w.setup())
	d.waitReady(30 * time.Second)

	// An update of a field nobody copies must write nothing: remember the
	// update times of b's assets.
	before := w.updateTimes(ctx, b)
	w.updateProject(ctx, b, bson.D{{Key: "$set", Value: bson.D{{Key: "description", Value: "changed"}}}})
	w.updateProject(ctx, a, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "alpha 2"}, {Key: "owner.team", Value: "green"}}}})
	eventually(t, applyTimeout, w.consistent)
	after := w.updateTimes(ctx, b)
	for path, ts := range before {
		if !after[path].Equal(ts) {
			t.Errorf("%s was written (update time %v -> %v) though no copied field changed", path, ts, after[path])
		}
	}
	// The rename reached every copy of a (consistent checks the values).
	if got := w.field(ctx, "aiAnalyses/"+a+"-ai-0", "projectName"); got != "alpha 2" {
		t.Fatalf("projectName = %v", got)
	}
	// A replace and an ancestor update are propagated too.
	w.replaceProject(ctx, b, bson.D{{Key: "name", Value: "beta replaced"}, {Key: "owner", Value: bson.D{{Key: "team", Value: "black"}}}})
	w.updateProject(ctx, a, bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: bson.D{{Key: "team", Value: "white"}}}}}})
	eventually(t, applyTimeout, w.consistent)
	d.stop()
}

func TestArchiveModeMarksAndReplayChangesNothing(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	doomed := w.addProject(ctx, "doomed", "red", 3, true)
	kept := w.addProject(ctx, "kept", "blue", 3, false)
	s := w.setup()
	s.mode = "archive"
	s.store = "file"
	d := startDaemon(t, s)
	d.waitReady(30 * time.Second)
	start := time.Now().Add(-2 * time.Second).UTC()

	w.deleteProject(ctx, doomed)
	var stamps map[string]time.Time
	eventually(t, applyTimeout, func(ctx context.Context) error {
		var err error
		stamps, err = w.archivedAt(ctx, doomed)
		return err
	})
	d.stop()
	if _, err := w.archivedAt(ctx, kept); err == nil {
		t.Fatal("the kept project's assets were archived too")
	}

	// Replay the delete: start over from a time before it (a fresh store).
	s.storePath = ""
	s.startAt = start.Format(time.RFC3339)
	d2 := startDaemon(t, s)
	d2.waitReady(30 * time.Second)
	// A later event, applied after the replayed delete, tells us it is done.
	w.updateProject(ctx, kept, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "kept 2"}}}})
	eventually(t, applyTimeout, func(ctx context.Context) error {
		if got := w.field(ctx, "aiAnalyses/"+kept+"-ai-0", "projectName"); got != "kept 2" {
			return fmt.Errorf("projectName = %v", got)
		}
		return nil
	})
	again, err := w.archivedAt(ctx, doomed)
	if err != nil {
		t.Fatal(err)
	}
	for path, ts := range stamps {
		if !again[path].Equal(ts) {
			t.Errorf("%s: archivedAt changed on replay: %v -> %v", path, ts, again[path])
		}
	}
	d2.stop()
}

func TestLargeProjectIsCleanedInPages(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 2,000-asset cleanup")
	}
	ctx := context.Background()
	w := newWorld(t)
	big := w.addProjectAssets(ctx, "big", 2000)
	d := startDaemon(t, w.setup())
	d.waitReady(30 * time.Second)
	w.deleteProject(ctx, big)
	eventually(t, 2*time.Minute, func(ctx context.Context) error {
		if n := w.countAll(ctx, "aiAnalyses"); n != 0 {
			return fmt.Errorf("%d aiAnalyses left", n)
		}
		return nil
	})
	d.stop()
}

func TestStoredTokenOutsideHistoryExitsOne(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	mongotest.RequireFaults(t, w.srv)
	p := w.addProject(ctx, "p", "red", 1, false)
	d := startDaemon(t, w.setup())
	d.waitReady(30 * time.Second)
	w.updateProject(ctx, p, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "p2"}}}})
	eventually(t, applyTimeout, w.consistent)
	d.stop()

	w.srv.TrimHistory()
	w.deleteProject(ctx, p)
	d2 := startDaemon(t, w.setup())
	if code := d2.wait(30 * time.Second); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	logs := d2.logs.String()
	for _, want := range []string{"checkpoint reset", "reconcile", `"level":"error"`} {
		if !contains(logs, want) {
			t.Errorf("the log does not mention %q:\n%s", want, logs)
		}
	}
	// Nothing was applied: the asset of the deleted project is still there.
	if _, err := w.fs.Doc("aiAnalyses/" + p + "-ai-0").Get(ctx); err != nil {
		t.Fatalf("the watcher changed Firestore after losing its history: %v", err)
	}
}
