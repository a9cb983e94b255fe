package e2e

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Changes made while the daemon is stopped are applied after a restart, from
// the stored token, with either checkpoint store.
func TestRestartResumesFromStoredToken(t *testing.T) {
	for _, store := range []string{"mongo", "file"} {
		t.Run(store, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t)
			a := w.addProject(ctx, "a", "red", 2, true)
			b := w.addProject(ctx, "b", "red", 2, false)
			c := w.addProject(ctx, "c", "red", 2, false)
			s := w.setup()
			s.store = store
			s.storePath = t.TempDir() + "/checkpoint.json"
			d := startDaemon(t, s)
			d.waitReady(30 * time.Second)
			w.updateProject(ctx, c, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "c2"}}}})
			eventually(t, applyTimeout, w.consistent)
			d.stop()

			// While it is down.
			w.deleteProject(ctx, a)
			w.updateProject(ctx, b, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "b2"}}}})
			w.updateProject(ctx, c, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "c3"}}}})
			if err := w.consistent(ctx); err == nil {
				t.Fatal("fixture: Firestore already consistent before the restart")
			}

			// startAt "now" would miss them: only the stored token finds them.
			d2 := startDaemon(t, s)
			d2.waitReady(30 * time.Second)
			eventually(t, applyTimeout, w.consistent)
			d2.stop()
		})
	}
}
