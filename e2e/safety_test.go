package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestKilledRightAfterFirstReadinessLosesNothing: on a first start the
// position the stream opened at is stored before readiness; a process
// killed right after it became ready restarts there, not at a new "now",
// and applies the change made while it was down.
func TestKilledRightAfterFirstReadinessLosesNothing(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a := w.addProject(ctx, "a", "red", 2, true)
	s := w.setup()
	// No periodic save before the kill: only the first-start one.
	d := startDaemon(t, s, "WATCHER_RESUME_CHECKPOINTINTERVAL=1h")
	d.waitReady(30 * time.Second)
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	d.wait(10 * time.Second)

	w.deleteProject(ctx, a) // while it is down
	d2 := startDaemon(t, s)
	d2.waitReady(30 * time.Second)
	eventually(t, applyTimeout, w.consistent)
	d2.stop()
}

// TestDeleteAppliedAfterReCreationKeepsTheNewAssets: a project with a
// string _id is deleted while the watcher is down, re-created with the same
// id and given new assets; when the delete is applied after the
// re-creation, only the old incarnation's assets go.
func TestDeleteAppliedAfterReCreationKeepsTheNewAssets(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	const slug = "summer-campaign"
	w.addProjectWithID(ctx, slug, "old", "red", 2, true)
	s := w.setup()
	env := "WATCHER_SYNC_CREATETIMESKEW=200ms"
	d := startDaemon(t, s, env)
	d.waitReady(30 * time.Second)
	d.stop() // the checkpoint is stored; the watcher is down from here

	if _, err := w.projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: slug}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the new incarnation's assets come well after the skew
	if _, err := w.projects.InsertOne(ctx, bson.D{{Key: "_id", Value: slug}, {Key: "name", Value: "new"}}); err != nil {
		t.Fatal(err)
	}
	fresh := []*firestore.DocumentRef{w.fs.Doc("storyboards/" + slug + "-new-1"), w.fs.Doc("aiAnalyses/" + slug + "-new-1")}
	for _, ref := range fresh {
		if _, err := ref.Set(ctx, map[string]any{"projectId": slug, "projectName": "new"}); err != nil {
			t.Fatal(err)
		}
	}

	d2 := startDaemon(t, s, env)
	d2.waitReady(30 * time.Second)
	eventually(t, applyTimeout, func(ctx context.Context) error {
		for _, ref := range w.assets[slug] {
			if _, err := ref.Get(ctx); status.Code(err) != codes.NotFound {
				return fmt.Errorf("the old incarnation's %s is still there (%v)", relPath(ref), err)
			}
		}
		return nil
	})
	for _, ref := range fresh {
		if _, err := ref.Get(ctx); err != nil {
			t.Errorf("the re-created project's %s was deleted: %v", relPath(ref), err)
		}
	}
	d2.stop()
}

// TestTwinIDsAreSetAside: an ObjectID project X and a string project "X"
// (its 24-hex text) map to the same projectId. Deleting or renaming the
// string one must not touch the live ObjectID project's assets: the events
// are dead-lettered as project-exists and the stream goes on.
func TestTwinIDsAreSetAside(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	live := w.addProject(ctx, "live", "red", 2, true) // an ObjectID project
	other := w.addProject(ctx, "other", "red", 1, false)
	s := w.setup()
	s.extraConfig = fmt.Sprintf("deadLetter:\n  database: %q\n  collection: %q\n", w.dbName, deadLetterCollection)
	d := startDaemon(t, s)
	d.waitReady(30 * time.Second)

	// The twin: a string project with the live one's hex as its _id.
	if _, err := w.projects.InsertOne(ctx, bson.D{{Key: "_id", Value: live}, {Key: "name", Value: "twin"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: live}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "twin2"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: live}}); err != nil {
		t.Fatal(err)
	}
	w.deleteProject(ctx, other) // the stream goes on
	eventually(t, applyTimeout, func(ctx context.Context) error {
		letters, err := w.deadLetterColl().all(ctx)
		if err != nil {
			return err
		}
		if n := countDeadLettersFor(letters, live, "project-exists"); n != 2 {
			return fmt.Errorf("%d project-exists letters for the string twin, want 2 (its rename and its delete)", n)
		}
		return w.consistent(ctx)
	})
	d.stop()
}
