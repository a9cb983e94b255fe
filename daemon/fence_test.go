package daemon

import (
	"errors"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
)

// allowAll is a lease term that may write.
type allowAll struct{}

func (allowAll) Allow() error { return nil }

// TestWriteFenceGuardsTheAppliersWrites: with WithWriteFence (the daemon
// under leases) the applier's writes reach Firestore only while a term is
// admitted; the event's error is event.ErrTermEnded otherwise. Without it
// (the commands) nothing is fenced.
func TestWriteFenceGuardsTheAppliersWrites(t *testing.T) {
	w := newWorld(t)
	ctx := watchertest.Context(t, time.Minute)
	firestoretest.Seed(t, w.fs, "storyboards", map[string]map[string]any{"a": {"projectId": "p1"}, "b": {"projectId": "p2"}})
	fenced, err := Open(ctx, w.cfg, zerolog.Nop(), WithWriteFence())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fenced.Close() })
	del := func(d *Daemon, pid string) error {
		_, err := d.Applier().Apply(ctx, event.Event{Kind: event.ProjectDeleted, ProjectID: pid})
		return err
	}
	if err := del(fenced, "p1"); !errors.Is(err, event.ErrTermEnded) {
		t.Fatalf("a fenced delete outside a term = %v, want event.ErrTermEnded", err)
	}
	if _, ok := firestoretest.Get(t, w.fs, "storyboards/a"); !ok {
		t.Fatal("the refused delete reached Firestore")
	}
	fenced.writes.Admit(allowAll{})
	if err := del(fenced, "p1"); err != nil {
		t.Fatalf("a fenced delete in a term: %v", err)
	}
	if _, ok := firestoretest.Get(t, w.fs, "storyboards/a"); ok {
		t.Fatal("the delete in a term did not reach Firestore")
	}
	if err := del(open(t, w.cfg, zerolog.Nop()), "p2"); err != nil {
		t.Fatalf("an unfenced delete: %v", err)
	}
}
