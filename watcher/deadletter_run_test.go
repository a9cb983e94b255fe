package watcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// TestRunDeadLettersInvalidValues: a copied field set to a value Firestore
// cannot hold (regex, JavaScript, MinKey, DBPointer) is dead-lettered with
// reason invalid-value, naming the field and the type, and the stream goes
// on; nothing of the event is written.
func TestRunDeadLettersInvalidValues(t *testing.T) {
	for name, v := range map[string]any{
		"regex": bson.Regex{Pattern: "a"}, "javascript": bson.JavaScript("f()"), "minkey": bson.MinKey{},
		"dbpointer": bson.DBPointer{DB: "d", Pointer: bson.NewObjectID()},
	} {
		t.Run(name, func(t *testing.T) {
			src := &scriptSource{script: []srcStep{chUpdate("t1", "p1", bson.D{{Key: "name", Value: v}}), chDelete("t2", "p2")}}
			store := &memDeadLetters{}
			f := newRunFixture(t, src, func(o *Options) { o.DeadLetters = store })
			if err := f.run(t); err != nil {
				t.Fatalf("Run = %v, want a clean stop (the stream goes on)", err)
			}
			if got := f.savedToken(); got != "t2" {
				t.Fatalf("saved %q, want t2 (past the dead-lettered change)", got)
			}
			letters := store.all()
			if len(letters) != 1 || letters[0].Reason != event.ReasonInvalidValue || letters[0].ProjectID != "p1" ||
				!strings.Contains(letters[0].Error, `field "name"`) || !strings.Contains(letters[0].Error, "BSON type") {
				t.Fatalf("dead letters %+v, want p1's change with reason invalid-value naming the field and its type", letters)
			}
			if fmt.Sprint(letters[0].Lookup) != "[name]" || letters[0].Set != nil {
				t.Fatalf("letter Set %v Lookup %v, want no value and the field to read again on a retry: [name]", letters[0].Set, letters[0].Lookup)
			}
			if got := f.ap.get("p1"); len(got) != 0 {
				t.Fatalf("p1 applied %v", got)
			}
			if got := f.ap.get("p2"); len(got) != 1 {
				t.Fatalf("p2 applied %v, want the delete after the set-aside change", got)
			}
		})
	}
}

// TestRunAppliesTheExistenceRules: before a delete or an update is
// applied, the project is checked; a live twin (the other form of the id)
// sets the event aside as project-exists without writing, and a re-created
// id limits the delete to what was created by the event's time.
func TestRunAppliesTheExistenceRules(t *testing.T) {
	wall := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	recreated := chDelete("t2", "recreated")
	recreated.ch.WallTime = wall
	src := &scriptSource{script: []srcStep{chDelete("t1", "twin"), recreated, chUpdate("t3", "twin", bson.D{{Key: "name", Value: "n"}})}}
	store := &memDeadLetters{}
	f := newRunFixture(t, src, func(o *Options) { o.DeadLetters = store })
	f.res.check = func(ev *event.Event) error {
		switch ev.ProjectID {
		case "twin":
			return fmt.Errorf("%w: twin exists", event.ErrProjectExists)
		case "recreated":
			ev.CreatedBy = ev.Time().Add(2 * time.Second)
		}
		return nil
	}
	if err := f.run(t); err != nil {
		t.Fatal(err)
	}
	if got := f.ap.get("twin"); len(got) != 0 {
		t.Fatalf("the twin's events were applied: %v", got)
	}
	if got := fmt.Sprint(f.ap.get("recreated")); got != "[delete:createdBy=2026-05-01T12:00:02Z]" {
		t.Fatalf("recreated: applied %s, want the delete limited to what was created by the event's time", got)
	}
	letters := store.all()
	if len(letters) != 2 || letters[0].Reason != event.ReasonProjectExists || letters[1].Reason != event.ReasonProjectExists {
		t.Fatalf("dead letters %+v, want the twin's delete and update as project-exists", letters)
	}
	if got := f.savedToken(); got != "t3" {
		t.Fatalf("saved %q, want t3", got)
	}
}
