package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/projectwatcher/watcher/resume"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestRunAppliesADeleteAndStopsOnCancel runs the daemon as cmd/watcher
// does: a project deleted in MongoDB loses its assets in Firestore (and
// only its own), and cancelling the context stops Run cleanly with the
// checkpoint saved past the delete.
func TestRunAppliesADeleteAndStopsOnCancel(t *testing.T) {
	w := newWorld(t)
	// The stream starts before the delete, however long start-up takes.
	w.cfg.Resume.StartAt = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	ctx := watchertest.Context(t, 2*time.Minute)
	projects := w.db.Collection(w.cfg.Mongo.Collection)
	if _, err := projects.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "p1"}}, bson.D{{Key: "_id", Value: "p2"}}}); err != nil {
		t.Fatal(err)
	}
	firestoretest.Seed(t, w.fs, "storyboards", map[string]map[string]any{
		"a": {"projectId": "p1"}, "b": {"projectId": "p1"}, "c": {"projectId": "p2"},
	})

	var logs watchertest.LogBuffer
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, w.cfg, zerolog.New(&logs)) }()
	deletedAt := deleteAt(t, ctx, projects, "p1")

	watchertest.WaitFor(t, "the assets of p1 to be deleted", func() bool {
		return len(firestoretest.ReadAll(t, w.fs, "storyboards")) == 1
	})
	if _, ok := firestoretest.Get(t, w.fs, "storyboards/c"); !ok {
		t.Fatal("the asset of p2 was deleted too")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v; logs:\n%s", err, logs.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("Run did not return within a minute of the cancel; logs:\n%s", logs.String())
	}

	store := resume.NewMongoStore(w.db.Client(), w.cfg.Resume)
	cp, ok, err := store.Load(ctx)
	if err != nil || !ok {
		t.Fatalf("no checkpoint after a clean stop (found %v, %v)", ok, err)
	}
	if cp.ClusterTime.Before(deletedAt) {
		t.Errorf("checkpoint at %v, before the applied delete at %v", cp.ClusterTime, deletedAt)
	}
	for _, want := range []string{`"projectId":"p1"`, "watcher stopped; "} { // the checkpoint itself is checked above
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the logs lack %s:\n%s", want, logs.String())
		}
	}
}

// deleteAt deletes the project id and returns the operation's cluster time.
func deleteAt(t *testing.T, ctx context.Context, projects *mongo.Collection, id string) bson.Timestamp {
	t.Helper()
	sess, err := projects.Database().Client().StartSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.EndSession(ctx)
	deleteProject(t, mongo.NewSessionContext(ctx, sess), projects, id)
	at := sess.OperationTime()
	if at == nil {
		t.Fatal("the delete returned no operation time")
	}
	return *at
}
