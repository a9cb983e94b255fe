package watcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/clocktest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// gateSeq is the first seq of the gate events (startGated).
const gateSeq = 1 << 20

// startGated starts a dispatcher on ap whose workers each apply a held
// gate event (projects gate0, gate1, ...: ap.hold must have them), so that
// the events dispatched next wait together; release lets the gates go.
func startGated(t *testing.T, ap *batchApplier, done completer, workers, queue int, opts ...dispatchOption) (*dispatcher, func()) {
	t.Helper()
	d := newDispatcher(ap, done, nil, zerolog.Nop(), workers, queue, opts...)
	d.Start(context.Background())
	for i := range workers {
		if err := d.Dispatch(context.Background(), gateSeq+uint64(i), delEvent(fmt.Sprint("gate", i))); err != nil {
			t.Fatal(err)
		}
		watchertest.WaitFor(t, "the gate to occupy a worker", func() bool { return int(ap.held.Load()) == i+1 })
	}
	return d, func() {
		for i := range workers {
			close(ap.hold[fmt.Sprint("gate", i)])
		}
	}
}

// holds is a hold channel for each of ids.
func holds(ids ...string) map[string]chan struct{} {
	h := map[string]chan struct{}{}
	for _, id := range ids {
		h[id] = make(chan struct{})
	}
	return h
}

// dispatchAll dispatches evs with seqs 0, 1, ...
func dispatchAll(t *testing.T, d *dispatcher, evs []event.Event) {
	t.Helper()
	for i, ev := range evs {
		if err := d.Dispatch(context.Background(), uint64(i), ev); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDispatcherBatchesKeepProjectOrder: with a BatchApplier, waiting
// projects are applied in batches of at most maxBatch, never with two
// events of one project in a batch, and each project's events in stream
// order.
func TestDispatcherBatchesKeepProjectOrder(t *testing.T) {
	const projects, perProject = 40, 5
	ap := &batchApplier{hold: holds("gate0")}
	done := &recDone{}
	d, release := startGated(t, ap, done, 1, projects*perProject)
	var evs []event.Event
	for i := range perProject {
		for p := range projects {
			evs = append(evs, updEvent(fmt.Sprintf("p%02d", p), fmt.Sprint(i)))
		}
	}
	dispatchAll(t, d, evs)
	release()
	watchertest.WaitFor(t, "every event to complete", func() bool { return done.count() == len(evs)+1 })
	d.Close()

	applied, _ := ap.snapshot()
	for p := range projects {
		var got []string
		for _, a := range applied {
			if id, what, _ := strings.Cut(a, "/"); id == fmt.Sprintf("p%02d", p) {
				got = append(got, what)
			}
		}
		if want := []string{"update:0", "update:1", "update:2", "update:3", "update:4"}; !slices.Equal(got, want) {
			t.Errorf("p%02d applied %v, want %v (stream order, each once)", p, got, want)
		}
	}
	full := false
	for _, b := range ap.allBatches() {
		if len(b) > maxBatch || len(slices.Compact(slices.Sorted(slices.Values(b)))) != len(b) {
			t.Errorf("batch %v: more than %d events, or two of one project", b, maxBatch)
		}
		full = full || len(b) == maxBatch
	}
	if !full {
		t.Errorf("batches %v: want some of %d (40 projects waited for one worker)", ap.allBatches(), maxBatch)
	}
	for i := range evs {
		if err, _ := done.get(uint64(i)); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
}

// TestDispatcherBatchFailuresStayPerEvent: in one batch, a transient
// failure is retried for its event only, a permanent one and a safety
// limit are dead-lettered with their own reasons and attempts, and the
// other events (a later one of the same project too) are applied once.
func TestDispatcherBatchFailuresStayPerEvent(t *testing.T) {
	ap := &batchApplier{hold: holds("gate0"), failApplier: failApplier{
		fail:   map[string][]error{"p2": {errUnavailable}},
		always: map[string]error{"p3": errDenied, "p5": limitErr},
	}}
	done, store, fails := &recDone{}, &memDeadLetters{}, &recFailures{}
	d, release := startGated(t, ap, done, 1, 16, withRetry(testPolicy(3)), withDeadLetters(store),
		withFailureObserver(fails), withClock(clocktest.NewAuto(time.Unix(1000, 0))))
	evs := []event.Event{updEvent("p1", "a"), updEvent("p2", "a"), updEvent("p3", "a"), updEvent("p4", "a"),
		updEvent("p5", "a"), updEvent("p6", "a"), updEvent("p4", "b")}
	dispatchAll(t, d, evs)
	release()
	watchertest.WaitFor(t, "every event to complete", func() bool { return done.count() == len(evs)+1 })
	d.Close()

	if b := ap.allBatches(); len(b) == 0 || !slices.Equal(b[0], []string{"p1", "p2", "p3", "p4", "p5", "p6"}) {
		t.Fatalf("batches %v: want the six projects' first events in one batch first", b)
	}
	letters := map[string]string{}
	for _, l := range store.all() {
		letters[l.ProjectID] = fmt.Sprintf("%s/%d", l.Reason, l.Attempts)
	}
	if want := map[string]string{"p3": event.ReasonApplyFailed + "/1", "p5": event.ReasonSafetyLimit + "/1"}; fmt.Sprint(letters) != fmt.Sprint(want) {
		t.Errorf("dead letters %v, want %v", letters, want)
	}
	if retries, _ := fails.get(); !slices.Equal(retries, []string{"1/150ms"}) {
		t.Errorf("retries %v, want p2's one", retries)
	}
	applied, calls := ap.snapshot()
	slices.Sort(applied)
	if want := []string{"gate0/delete", "p1/update:a", "p2/update:a", "p4/update:a", "p4/update:b", "p6/update:a"}; !slices.Equal(applied, want) {
		t.Errorf("applied %v, want %v", applied, want)
	}
	if want := map[string]int{"gate0": 1, "p1": 1, "p2": 2, "p3": 1, "p4": 2, "p5": 1, "p6": 1}; fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
	for i := range evs {
		if err, _ := done.get(uint64(i)); err != nil {
			t.Errorf("event %d completed with %v, want nil (applied or parked)", i, err)
		}
	}
}

// TestDispatcherBatchRetriesAlone: events that failed in a batch are
// retried one by one, even when they are due together: a batch fails an
// event at most once.
func TestDispatcherBatchRetriesAlone(t *testing.T) {
	ap := &batchApplier{hold: holds("gate0"), failApplier: failApplier{fail: map[string][]error{"p1": {errUnavailable}, "p2": {errUnavailable}}}}
	done, clk := &recDone{}, newManualClock()
	d, release := startGated(t, ap, done, 1, 8, withRetry(testPolicy(3)), withClock(clk))
	dispatchAll(t, d, []event.Event{updEvent("p1", "a"), updEvent("p2", "a")})
	release()
	deadline := time.Now().Add(20 * time.Second)
	for done.count() < 3 && time.Now().Before(deadline) {
		if _, retrying := d.Pending(); retrying == 2 { // both wait, due at the same time
			clk.FireAll()
		}
		time.Sleep(2 * time.Millisecond)
	}
	d.Close()
	if b := ap.allBatches(); len(b) != 1 || !slices.Equal(b[0], []string{"p1", "p2"}) {
		t.Errorf("batches %v: want p1 and p2 together once, then retried alone", b)
	}
	if applied, calls := ap.snapshot(); len(applied) != 3 || calls["p1"] != 2 || calls["p2"] != 2 {
		t.Errorf("applied %v after calls %v: want p1 and p2 applied at their second attempt", applied, calls)
	}
}

// errOutage is a failure while Firestore answers nothing (depsByErr).
var errOutage = status.Error(codes.Unavailable, "no route to Firestore")

// depsByErr says Firestore answers unless the error is errOutage.
type depsByErr struct{}

func (depsByErr) Answering(err error, _ time.Time) bool {
	return !strings.Contains(err.Error(), errOutage.Error())
}

// TestDispatcherBatchOutageRulePerEvent: in one batch, each event's own
// failure decides whether its attempt counts: one that failed while
// Firestore answered nothing (an outage) is retried until it succeeds,
// one that failed while it answered is dead-lettered once its attempts
// are used up.
func TestDispatcherBatchOutageRulePerEvent(t *testing.T) {
	ap := &batchApplier{hold: holds("gate0"), failApplier: failApplier{fail: map[string][]error{
		"p1": {errOutage, errOutage, errOutage}, "p2": {errUnavailable}}}}
	done, store := &recDone{}, &memDeadLetters{}
	d, release := startGated(t, ap, done, 1, 8, withRetry(testPolicy(1)), withDeadLetters(store),
		withClock(clocktest.NewAuto(time.Unix(1000, 0))), withDependencies(depsByErr{}))
	dispatchAll(t, d, []event.Event{updEvent("p1", "a"), updEvent("p2", "a")})
	release()
	watchertest.WaitFor(t, "both events to complete", func() bool { return done.count() == 3 })
	d.Close()
	if b := ap.allBatches(); len(b) != 1 || !slices.Equal(b[0], []string{"p1", "p2"}) {
		t.Fatalf("batches %v: want p1 and p2 together first", b)
	}
	applied, calls := ap.snapshot()
	if !slices.Contains(applied, "p1/update:a") || calls["p1"] != 4 {
		t.Errorf("p1 applied %v after %d calls: want applied after the outage (4 calls, none counted)", applied, calls["p1"])
	}
	if l := store.all(); len(l) != 1 || l[0].ProjectID != "p2" || l[0].Reason != event.ReasonRetriesExhausted || l[0].Attempts != 1 {
		t.Errorf("letters %+v: want p2's only, retries-exhausted after 1 attempt", l)
	}
}

// TestDispatcherBatchPrepareFailureLeavesTheBatch: each event of a batch
// is prepared on its own: one whose project exists again under its other
// id form is dead-lettered and left out; one re-created is applied with
// its cutoff; the others are applied together.
func TestDispatcherBatchPrepareFailureLeavesTheBatch(t *testing.T) {
	cutoff := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	res := &stubResolver{check: func(ev *event.Event) error {
		switch ev.ProjectID {
		case "p3":
			return fmt.Errorf("%w: 0123456789abcdef01234567", event.ErrProjectExists)
		case "p4":
			ev.CreatedBy = cutoff
		}
		return nil
	}}
	ap := &batchApplier{hold: holds("gate0")}
	done, store := &recDone{}, &memDeadLetters{}
	d, release := startGated(t, ap, done, 1, 8, withResolver(res), withDeadLetters(store))
	dispatchAll(t, d, []event.Event{delEvent("p1"), delEvent("p2"), delEvent("p3"), delEvent("p4"), delEvent("p5")})
	release()
	watchertest.WaitFor(t, "every event to complete", func() bool { return done.count() == 6 })
	d.Close()
	if b := ap.allBatches(); len(b) != 1 || !slices.Equal(b[0], []string{"p1", "p2", "p4", "p5"}) {
		t.Fatalf("batches %v: want one of p1, p2, p4, p5 (p3 left it)", b)
	}
	if l := store.all(); len(l) != 1 || l[0].ProjectID != "p3" || l[0].Reason != event.ReasonProjectExists {
		t.Fatalf("letters %+v: want p3's, project-exists", l)
	}
	if got := ap.createdBy("p4"); !got.Equal(cutoff) {
		t.Errorf("p4 applied with cutoff %v, want %v (set by its Prepare)", got, cutoff)
	}
}

// TestDispatcherBatchHandsBackEachProject: a project of a batch goes back
// to the scheduler as soon as its event is done: its next event is
// applied by another worker while a slow event of the same batch is still
// being applied.
func TestDispatcherBatchHandsBackEachProject(t *testing.T) {
	ap := &batchApplier{hold: holds("gate0", "gate1", "slow")}
	done := &recDone{}
	d, _ := startGated(t, ap, done, 2, 8)
	dispatchAll(t, d, []event.Event{updEvent("slow", "a"), updEvent("p2", "a"), updEvent("p3", "a"), updEvent("p2", "b")})
	close(ap.hold["gate1"]) // one worker takes slow, p2 and p3 together
	watchertest.WaitFor(t, "p2 and p3 to be applied", func() bool { return done.count() == 3 })
	close(ap.hold["gate0"]) // the other worker is free
	watchertest.WaitFor(t, "p2's second event to be applied while slow is not", func() bool {
		applied, _ := ap.snapshot()
		return slices.Contains(applied, "p2/update:b")
	})
	if applied, _ := ap.snapshot(); slices.Contains(applied, "slow/update:a") {
		t.Fatalf("applied %v: slow was not held", applied)
	}
	close(ap.hold["slow"])
	watchertest.WaitFor(t, "every event to complete", func() bool { return done.count() == 6 })
	d.Close()
	if b := ap.allBatches(); len(b) == 0 || !slices.Equal(b[0], []string{"slow", "p2", "p3"}) {
		t.Errorf("batches %v: want slow, p2 and p3 in one", b)
	}
}

// TestDispatcherBatchKeepsTheCap: events of a batch being applied count
// against what the dispatcher holds: beyond it Dispatch blocks.
func TestDispatcherBatchKeepsTheCap(t *testing.T) {
	const queue = 9 // one worker: 10 events held at most
	ap := &batchApplier{hold: holds("gate0", "p0")}
	done := &recDone{}
	d, release := startGated(t, ap, done, 1, queue)
	var evs []event.Event
	for i := range queue {
		evs = append(evs, delEvent(fmt.Sprint("p", i)))
	}
	dispatchAll(t, d, evs)
	blocked := func(id string) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		return errors.Is(d.Dispatch(ctx, 999, delEvent(id)), context.DeadlineExceeded)
	}
	if !blocked("x") {
		t.Fatal("Dispatch beyond the cap did not block")
	}
	release()
	watchertest.WaitFor(t, "all but p0 to complete", func() bool { return done.count() == queue })
	if events, _ := d.Pending(); events != 1 {
		t.Fatalf("Pending %d, want 1 (p0, in its batch)", events)
	}
	for i := range queue {
		if err := d.Dispatch(context.Background(), uint64(100+i), delEvent(fmt.Sprint("r", i))); err != nil {
			t.Fatal(err)
		}
	}
	if !blocked("y") {
		t.Fatal("Dispatch beyond the cap did not block while a batch held an event")
	}
	close(ap.hold["p0"])
	watchertest.WaitFor(t, "every event to complete", func() bool { return done.count() == 2*queue+1 })
	d.Close()
}

// TestBatchKey: deletes batch with deletes, updates with updates of the
// same source fields (whatever their values, set, unset or looked up);
// nothing else batches.
func TestBatchKey(t *testing.T) {
	upd := func(set map[string]any, unset, lookup []string) *job {
		return &job{ev: event.Event{Kind: event.ProjectUpdated, ProjectID: "p", Set: set, Unset: unset, Lookup: lookup}}
	}
	del := &job{ev: delEvent("p")}
	same := [][2]*job{
		{del, {ev: event.Event{Kind: event.ProjectDeleted, ProjectID: "q", CreatedBy: time.Unix(5, 0)}}},
		{upd(map[string]any{"name": "a"}, nil, nil), upd(map[string]any{"name": "b"}, nil, nil)},
		{upd(map[string]any{"name": "a", "tag": 1}, nil, nil), upd(nil, []string{"tag"}, []string{"name"})},
	}
	for _, s := range same {
		if k0, k1 := batchKey(s[0]), batchKey(s[1]); k0 == "" || k0 != k1 {
			t.Errorf("keys %q and %q: want the same, not empty", k0, k1)
		}
	}
	differ := [][2]*job{
		{del, upd(map[string]any{"name": "a"}, nil, nil)},
		{upd(map[string]any{"name": "a"}, nil, nil), upd(map[string]any{"tag": "a"}, nil, nil)},
		{upd(map[string]any{"name": "a"}, nil, nil), upd(map[string]any{"name": "a", "tag": 1}, nil, nil)},
	}
	for _, d := range differ {
		if k0, k1 := batchKey(d[0]), batchKey(d[1]); k0 == k1 {
			t.Errorf("keys %q and %q: want them to differ", k0, k1)
		}
	}
	for _, j := range []*job{
		{ev: delEvent(" ")},
		{ev: delEvent("p"), invalid: event.ErrInvalidID},
		{ev: event.Event{ProjectID: "p"}},
	} {
		if k := batchKey(j); k != "" {
			t.Errorf("%+v: key %q, want none (never batched)", j.ev, k)
		}
	}
}
