package watcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/clocktest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func newManualClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

var (
	errUnavailable = status.Error(codes.Unavailable, "firestore unavailable")
	errDenied      = status.Error(codes.PermissionDenied, "permission denied")
)

// testPolicy waits 100ms, 200ms, 400ms... exactly (the draw is always 0
// and the ceiling doubles from 100ms, so Delay = 100ms; use draw 0.5).
func testPolicy(attempts int) RetryPolicy {
	return RetryPolicy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, MaxAttempts: attempts,
		Rand: func() float64 { return 0.5 }}
}

// failureCase is one row of failureCases: the failures the applier and the
// dead-letter store meet, and what the dispatcher must make of them.
type failureCase struct {
	name         string
	attempts     int
	fail         map[string][]error
	always       map[string]error
	storeFails   []error
	noStore      bool
	events       []event.Event
	wantApplied  []string
	wantRetries  []string
	wantReasons  []string
	wantAttempts []int
	wantDoneErr  map[uint64]bool // seq → completed with an error
	wantCalls    map[string]int
}

func updEvent(id, name string) event.Event {
	return event.Event{Kind: event.ProjectUpdated, ProjectID: id, Op: "update", Set: map[string]any{"name": name},
		Token: watchertest.Token("T-" + name), ClusterTime: bson.Timestamp{T: 7, I: 1}}
}

var limitErr = fmt.Errorf("sync: %w", event.ErrSafetyLimit)

var failureCases = []failureCase{
	{
		name: "transient failures are retried until they succeed", attempts: 5,
		fail:        map[string][]error{"p1": {errUnavailable, errUnavailable}},
		events:      []event.Event{updEvent("p1", "a")},
		wantApplied: []string{"p1/update:a"}, wantRetries: []string{"1/150ms", "2/250ms"},
		wantCalls: map[string]int{"p1": 3},
	},
	{
		name: "a permanent failure is dead-lettered at once", attempts: 5,
		always: map[string]error{"p1": errDenied}, events: []event.Event{updEvent("p1", "a"), updEvent("p1", "b")},
		wantReasons: []string{event.ReasonApplyFailed, event.ReasonApplyFailed}, wantAttempts: []int{1, 1},
		wantCalls: map[string]int{"p1": 2},
	},
	{
		name: "transient failures until no attempts are left", attempts: 3,
		always: map[string]error{"p1": errUnavailable}, events: []event.Event{updEvent("p1", "a")},
		wantRetries: []string{"1/150ms", "2/250ms"}, wantReasons: []string{event.ReasonRetriesExhausted}, wantAttempts: []int{3},
		wantCalls: map[string]int{"p1": 3},
	},
	{
		name: "an empty project id never reaches the applier", attempts: 3,
		events:      []event.Event{updEvent("", "a"), updEvent("  ", "b"), updEvent("p2", "c")},
		wantApplied: []string{"p2/update:c"}, wantReasons: []string{event.ReasonInvalidID, event.ReasonInvalidID}, wantAttempts: []int{1, 1},
		wantCalls: map[string]int{"p2": 1},
	},
	{
		name: "safety limit", attempts: 3, always: map[string]error{"p1": limitErr}, events: []event.Event{updEvent("p1", "a")},
		wantReasons: []string{event.ReasonSafetyLimit}, wantAttempts: []int{1}, wantCalls: map[string]int{"p1": 1},
	},
	{
		name: "dead-letter write retried after a transient failure", attempts: 3,
		always: map[string]error{"p1": errDenied}, storeFails: []error{errUnavailable},
		events: []event.Event{updEvent("p1", "a")}, wantReasons: []string{event.ReasonApplyFailed}, wantAttempts: []int{1},
		wantCalls: map[string]int{"p1": 1},
	},
	{
		name: "a dead-letter write that fails for good completes the event with an error", attempts: 3,
		always: map[string]error{"p1": errDenied}, storeFails: []error{errDenied},
		events: []event.Event{updEvent("p1", "a")}, wantDoneErr: map[uint64]bool{0: true},
		wantCalls: map[string]int{"p1": 1},
	},
	{
		name: "without a dead-letter store a failure completes with its error", attempts: 1, noStore: true,
		always: map[string]error{"p1": errDenied}, events: []event.Event{updEvent("p1", "a")},
		wantDoneErr: map[uint64]bool{0: true}, wantCalls: map[string]int{"p1": 1},
	},
}

func TestDispatcherFailureHandling(t *testing.T) {
	for _, tt := range failureCases {
		t.Run(tt.name, func(t *testing.T) {
			ap, store, fails := runFailureCase(t, tt)
			checkFailureCase(t, tt, ap, store, fails)
		})
	}
}

// runFailureCase dispatches tt's events and waits until each completed
// with the error tt expects.
func runFailureCase(t *testing.T, tt failureCase) (*failApplier, *memDeadLetters, *recFailures) {
	t.Helper()
	fail := map[string][]error{} // the applier consumes it; the table is shared by every run
	for id, errs := range tt.fail {
		fail[id] = slices.Clone(errs)
	}
	ap := &failApplier{fail: fail, always: tt.always}
	done := &recDone{}
	store := &memDeadLetters{failures: tt.storeFails}
	fails := &recFailures{}
	opts := []dispatchOption{withRetry(testPolicy(tt.attempts)), withFailureObserver(fails),
		withClock(clocktest.NewAuto(time.Unix(1000, 0)))}
	if !tt.noStore {
		opts = append(opts, withDeadLetters(store))
	}
	d := newDispatcher(ap, done, nil, zerolog.Nop(), 2, 4, opts...)
	d.Start(context.Background())
	for i, ev := range tt.events {
		if err := d.Dispatch(context.Background(), uint64(i), ev); err != nil {
			t.Fatal(err)
		}
	}
	watchertest.WaitFor(t, "every event to complete", func() bool { return done.count() >= len(tt.events) })
	d.Close()

	if done.count() != len(tt.events) {
		t.Fatalf("%d completions, want %d", done.count(), len(tt.events))
	}
	for i := range tt.events {
		err, _ := done.get(uint64(i))
		if (err != nil) != tt.wantDoneErr[uint64(i)] {
			t.Errorf("event %d completed with %v, want error: %v", i, err, tt.wantDoneErr[uint64(i)])
		}
	}
	return ap, store, fails
}

// checkFailureCase compares what was applied, retried and dead-lettered.
func checkFailureCase(t *testing.T, tt failureCase, ap *failApplier, store *memDeadLetters, fails *recFailures) {
	t.Helper()
	applied, calls := ap.snapshot()
	if !slices.Equal(applied, tt.wantApplied) {
		t.Errorf("applied %v, want %v", applied, tt.wantApplied)
	}
	if fmt.Sprint(calls) != fmt.Sprint(tt.wantCalls) {
		t.Errorf("applier calls %v, want %v", calls, tt.wantCalls)
	}
	retries, reasons := fails.get()
	if !slices.Equal(retries, tt.wantRetries) {
		t.Errorf("retries %v, want %v", retries, tt.wantRetries)
	}
	if !slices.Equal(reasons, tt.wantReasons) {
		t.Errorf("dead-letter reasons observed %v, want %v", reasons, tt.wantReasons)
	}
	letters := store.all()
	if len(letters) != len(tt.wantReasons) {
		t.Fatalf("%d dead letters stored, want %d", len(letters), len(tt.wantReasons))
	}
	for i, l := range letters {
		if l.Reason != tt.wantReasons[i] || l.Attempts != tt.wantAttempts[i] {
			t.Errorf("letter %d: reason %q attempts %d, want %q %d", i, l.Reason, l.Attempts, tt.wantReasons[i], tt.wantAttempts[i])
		}
		if l.Error == "" || len(l.Token) == 0 || l.ClusterTime.T != 7 || l.Kind != "ProjectUpdated" || l.Set["name"] == nil {
			t.Errorf("letter %d lacks the event: %+v", i, l)
		}
		if l.FirstFailedAt.IsZero() || l.LastFailedAt.Before(l.FirstFailedAt) {
			t.Errorf("letter %d failure times %s..%s", i, l.FirstFailedAt, l.LastFailedAt)
		}
	}
}

// A retrying project holds its own later events back, not the other
// projects of its worker.
func TestDispatcherRetryParksOnlyItsProject(t *testing.T) {
	ap := &failApplier{fail: map[string][]error{"p1": {errUnavailable}}}
	done := &recDone{}
	clk := newManualClock()
	d := newDispatcher(ap, done, nil, zerolog.Nop(), 1, 8, withRetry(testPolicy(3)), withClock(clk),
		withDeadLetters(&memDeadLetters{}))
	d.Start(context.Background())
	events := []event.Event{
		{Kind: event.ProjectDeleted, ProjectID: "p1"},
		{Kind: event.ProjectUpdated, ProjectID: "p1", Set: map[string]any{"name": "late"}},
		{Kind: event.ProjectDeleted, ProjectID: "p2"},
		{Kind: event.ProjectDeleted, ProjectID: "p3"},
	}
	for i, ev := range events {
		if err := d.Dispatch(context.Background(), uint64(i), ev); err != nil {
			t.Fatal(err)
		}
	}
	watchertest.WaitFor(t, "the other projects to be applied while p1 waits", func() bool { return done.count() == 2 })
	applied, _ := ap.snapshot()
	if !slices.Equal(applied, []string{"p2/delete", "p3/delete"}) {
		t.Fatalf("applied %v while p1 waits, want p2 and p3 only", applied)
	}
	<-clk.Armed()
	clk.FireAll()
	watchertest.WaitFor(t, "p1 to be retried", func() bool { return done.count() == 4 })
	d.Close()
	applied, _ = ap.snapshot()
	if want := []string{"p2/delete", "p3/delete", "p1/delete", "p1/update:late"}; !slices.Equal(applied, want) {
		t.Fatalf("applied %v, want %v", applied, want)
	}
	for i := range events {
		if err, _ := done.get(uint64(i)); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
}

// Closing the dispatcher does not wait out backoffs: events waiting for a
// retry stay in flight (not completed), to be replayed after a restart.
func TestDispatcherCloseLeavesParkedEventsInFlight(t *testing.T) {
	ap := &failApplier{always: map[string]error{"p1": errUnavailable}}
	done := &recDone{}
	clk := newManualClock()
	d := newDispatcher(ap, done, nil, zerolog.Nop(), 1, 4, withRetry(testPolicy(5)), withClock(clk),
		withDeadLetters(&memDeadLetters{}))
	d.Start(context.Background())
	for i, id := range []string{"p1", "p1", "p2"} {
		if err := d.Dispatch(context.Background(), uint64(i), event.Event{Kind: event.ProjectDeleted, ProjectID: id}); err != nil {
			t.Fatal(err)
		}
	}
	watchertest.WaitFor(t, "p2 to be applied", func() bool { return done.count() == 1 })
	d.Close()
	if done.count() != 1 {
		t.Fatalf("%d completions after Close, want 1 (the parked p1 events stay in flight)", done.count())
	}
	if _, ok := done.get(2); !ok {
		t.Fatal("p2 not completed")
	}
}

// Events waiting for a retry count against what the dispatcher holds:
// beyond it Dispatch blocks (backpressure instead of unbounded memory)
// until the retry frees room.
func TestDispatcherWaitingEventsAreBounded(t *testing.T) {
	ap := &failApplier{fail: map[string][]error{"p1": {errUnavailable}}}
	done := &recDone{}
	clk := newManualClock()
	const queue = 2
	d := newDispatcher(ap, done, nil, zerolog.Nop(), 1, queue, withRetry(testPolicy(3)), withClock(clk))
	d.Start(context.Background())
	const held = queue + 1 // one worker: its queue plus the event it applies
	for i := range held {
		if err := d.Dispatch(context.Background(), uint64(i), event.Event{Kind: event.ProjectDeleted, ProjectID: "p1"}); err != nil {
			t.Fatal(err)
		}
	}
	watchertest.WaitFor(t, "p1 to wait for its retry", func() bool { events, retrying := d.Pending(); return events == held && retrying == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := d.Dispatch(ctx, 99, event.Event{Kind: event.ProjectDeleted, ProjectID: "p9"})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dispatch beyond the budget = %v, want it to block", err)
	}
	<-clk.Armed()
	clk.FireAll()
	watchertest.WaitFor(t, "p1's events to complete", func() bool { return done.count() == held })
	d.Close()
	if done.count() != held {
		t.Fatalf("%d completions, want %d", done.count(), held)
	}
}

func TestDispatchInvalidIsDeadLettered(t *testing.T) {
	ap := &failApplier{}
	done := &recDone{}
	store := &memDeadLetters{}
	d := newDispatcher(ap, done, nil, zerolog.Nop(), 2, 2, withDeadLetters(store))
	d.Start(context.Background())
	key := watchertest.DocKey(int32(42))
	ch := event.Change{Op: "delete", DocumentKey: key, Token: watchertest.Token("T1"), ClusterTime: bson.Timestamp{T: 9}}
	_, _, derr := Derive(ch, nil)
	if !errors.Is(derr, event.ErrInvalidID) {
		t.Fatalf("Derive = %v, want ErrInvalidID", derr)
	}
	if err := d.DispatchInvalid(context.Background(), 0, ch, event.Event{}, derr); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err, ok := done.get(0); !ok || err != nil {
		t.Fatalf("completion %v %v, want nil", ok, err)
	}
	if _, calls := ap.snapshot(); len(calls) != 0 {
		t.Fatalf("the applier was called: %v", calls)
	}
	letters := store.all()
	if len(letters) != 1 {
		t.Fatalf("%d letters", len(letters))
	}
	l := letters[0]
	if l.Reason != event.ReasonInvalidID || l.Kind != "ProjectDeleted" || !strings.Contains(l.Error, "integer") ||
		!bytesEqual(l.DocumentKey, key) || l.ClusterTime.T != 9 {
		t.Fatalf("letter %+v", l)
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// deps answers Answering with answering (and records the errors asked).
type deps struct {
	mu        sync.Mutex
	answering bool
	asked     int
}

func (f *deps) Answering(error, time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	return f.answering
}

// TestDispatcherOutagePausesInsteadOfDeadLettering: transient failures
// while the service answers nothing (an outage) do not use up the
// attempts: the event is retried, with backoff, until it succeeds. The same
// failures while the service answers other calls dead-letter it after
// retry.maxAttempts.
func TestDispatcherOutagePausesInsteadOfDeadLettering(t *testing.T) {
	const attempts, failures = 3, 6 // more failures than attempts
	for _, answering := range []bool{false, true} {
		t.Run(fmt.Sprintf("service answering=%v", answering), func(t *testing.T) {
			errs := make([]error, failures)
			for i := range errs {
				errs[i] = errUnavailable
			}
			ap := &failApplier{fail: map[string][]error{"p1": errs}}
			done := &recDone{}
			store := &memDeadLetters{}
			dep := &deps{answering: answering}
			d := newDispatcher(ap, done, nil, zerolog.Nop(), 1, 4, withRetry(testPolicy(attempts)),
				withClock(clocktest.NewAuto(time.Unix(1000, 0))), withDeadLetters(store), withDependencies(dep))
			d.Start(context.Background())
			if err := d.Dispatch(context.Background(), 0, updEvent("p1", "a")); err != nil {
				t.Fatal(err)
			}
			watchertest.WaitFor(t, "the event to complete", func() bool { return done.count() == 1 })
			d.Close()
			applied, calls := ap.snapshot()
			if answering {
				if len(applied) != 0 || calls["p1"] != attempts || len(store.all()) != 1 || store.all()[0].Reason != event.ReasonRetriesExhausted {
					t.Fatalf("applied %v after %d calls, letters %v: want retries-exhausted after %d attempts", applied, calls["p1"], store.all(), attempts)
				}
				return
			}
			if !slices.Equal(applied, []string{"p1/update:a"}) || calls["p1"] != failures+1 || len(store.all()) != 0 {
				t.Fatalf("applied %v after %d calls, %d letters: want it applied after the outage (%d calls), no letter",
					applied, calls["p1"], len(store.all()), failures+1)
			}
		})
	}
}
