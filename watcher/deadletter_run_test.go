package watcher

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// With a dead-letter store, a change whose _id cannot name a project is
// parked and the stream goes on past it.
func TestRunDeadLettersInvalidIDs(t *testing.T) {
	tests := []struct {
		name string
		id   any
	}{{"number", int32(12)}, {"empty string", ""}, {"document", bson.D{{Key: "a", Value: 1}}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &scriptSource{script: []srcStep{chDelete("t1", "p1"), chDelete("t2", tt.id), chDelete("t3", "p3")}}
			store := &memDeadLetters{}
			f := newRunFixture(t, src, func(o *Options) { o.DeadLetters = store })
			if err := f.run(t); err != nil {
				t.Fatalf("Run = %v, want a clean stop", err)
			}
			if got := f.savedToken(); got != "t3" {
				t.Fatalf("saved %q, want t3 (past the dead-lettered change)", got)
			}
			letters := store.all()
			if len(letters) != 1 || letters[0].Reason != event.ReasonInvalidID || tokName(letters[0].Token) != "t2" {
				t.Fatalf("dead letters %+v, want the t2 change with reason invalid-id", letters)
			}
			if len(f.ap.get("")) != 0 {
				t.Fatal("the applier was called with an empty id")
			}
		})
	}
}

// A permanent apply failure is dead-lettered; the checkpoint moves past it
// only after the dead letter is written.
func TestRunDeadLettersFailedApply(t *testing.T) {
	src := &scriptSource{script: []srcStep{chDelete("t1", "p1"), chDelete("t2", "p2"), chDelete("t3", "p3")}}
	store := &memDeadLetters{}
	f := newRunFixture(t, src, func(o *Options) { o.DeadLetters = store })
	f.ap.hook = func(_ context.Context, id string) error {
		if id == "p2" {
			return errDenied
		}
		return nil
	}
	if err := f.run(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := f.savedToken(); got != "t3" {
		t.Fatalf("saved %q, want t3", got)
	}
	if l := store.all(); len(l) != 1 || l[0].ProjectID != "p2" || l[0].Reason != event.ReasonApplyFailed {
		t.Fatalf("dead letters %+v", l)
	}
}

// When the dead letter cannot be written, the watcher stops and the
// checkpoint stays before the event.
func TestRunStopsWhenDeadLetterWriteFails(t *testing.T) {
	src := &scriptSource{script: []srcStep{chDelete("t1", "p1"), chDelete("t2", "p2"), chDelete("t3", "p3")}}
	store := &memDeadLetters{failures: []error{errDenied}}
	f := newRunFixture(t, src, func(o *Options) { o.DeadLetters = store })
	f.ap.hook = func(_ context.Context, id string) error {
		if id == "p2" {
			return errDenied
		}
		return nil
	}
	src.end = func() {} // only the failure stops this run
	err := f.run(t)
	if !errors.Is(err, errDenied) {
		t.Fatalf("Run = %v, want the failed dead-letter write", err)
	}
	if got := f.savedToken(); got != "t1" {
		t.Fatalf("saved %q, want t1 (before the event that could not be parked)", got)
	}
}

func TestWatcherProgress(t *testing.T) {
	src := &scriptSource{script: []srcStep{chDelete("t1", "p1")}}
	f := newRunFixture(t, src, nil)
	if n, last := f.w.Progress(); n != 0 || !last.IsZero() {
		t.Fatalf("before Run: %d %s", n, last)
	}
	before := time.Now()
	if err := f.run(t); err != nil {
		t.Fatal(err)
	}
	n, last := f.w.Progress()
	if n != 0 || last.Before(before) {
		t.Fatalf("after Run: %d in flight, last progress %s (want >= %s)", n, last, before)
	}
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	base := &loadOnlyStore{cp: event.Checkpoint{Token: watchertest.Token("base")}}
	m := NewMemoryStore(base)
	cp, ok, err := m.Load(ctx)
	if err != nil || !ok || tokName(cp.Token) != "base" {
		t.Fatalf("Load = %v %v %v, want the base checkpoint", tokName(cp.Token), ok, err)
	}
	if err := m.Save(ctx, event.Checkpoint{Token: watchertest.Token("mem")}); err != nil {
		t.Fatal(err)
	}
	cp, _, _ = m.Load(ctx)
	if tokName(cp.Token) != "mem" || base.saves != 0 {
		t.Fatalf("after Save: loaded %q, base saves %d; want mem and 0", tokName(cp.Token), base.saves)
	}
	if _, ok, _ := NewMemoryStore(nil).Load(ctx); ok {
		t.Fatal("an empty memory store has a checkpoint")
	}
}
