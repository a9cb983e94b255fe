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
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// manualClock fires timers only when told (fire), so tests control every
// backoff; now moves to the timer's time when it fires.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []manualTimer
	delays []time.Duration
	armed  chan struct{} // a timer was created
}

type manualTimer struct {
	at time.Time
	ch chan time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), armed: make(chan struct{}, 100)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, manualTimer{at: c.now.Add(d), ch: ch})
	c.delays = append(c.delays, d)
	c.armed <- struct{}{}
	return ch
}

// fireAll fires every pending timer, moving now to the latest.
func (c *manualClock) fireAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if t.at.After(c.now) {
			c.now = t.at
		}
	}
	for _, t := range c.timers {
		t.ch <- c.now
	}
	c.timers = nil
}

// autoClock fires every timer at once, advancing now by its duration.
type autoClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *autoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *autoClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// failApplier fails each project's calls with the errors queued for it,
// then succeeds; it records every successful apply in order.
type failApplier struct {
	mu      sync.Mutex
	fail    map[string][]error // project → errors of its next calls
	always  map[string]error   // project → error of every call
	calls   map[string]int
	applied []string // "project/op" in apply order
}

func (a *failApplier) do(id, what string) (event.Report, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.calls == nil {
		a.calls = map[string]int{}
	}
	a.calls[id]++
	if err := a.always[id]; err != nil {
		return event.Report{}, err
	}
	if q := a.fail[id]; len(q) > 0 {
		a.fail[id] = q[1:]
		return event.Report{}, q[0]
	}
	a.applied = append(a.applied, id+"/"+what)
	return event.Report{}, nil
}

func (a *failApplier) DeleteProject(_ context.Context, id string) (event.Report, error) {
	return a.do(id, "delete")
}

func (a *failApplier) UpdateProject(_ context.Context, id string, set map[string]any, _ []string) (event.Report, error) {
	return a.do(id, fmt.Sprint("update:", set["name"]))
}

func (a *failApplier) snapshot() ([]string, map[string]int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	calls := map[string]int{}
	for k, v := range a.calls {
		calls[k] = v
	}
	return slices.Clone(a.applied), calls
}

// recDone records completions.
type recDone struct {
	mu   sync.Mutex
	errs map[uint64]error
	n    int
}

func (r *recDone) Done(seq uint64, err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.errs == nil {
		r.errs = map[uint64]error{}
	}
	if _, dup := r.errs[seq]; dup {
		return fmt.Errorf("seq %d completed twice", seq)
	}
	r.errs[seq] = err
	r.n++
	return nil
}

func (r *recDone) get(seq uint64) (error, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	err, ok := r.errs[seq]
	return err, ok
}

func (r *recDone) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// memDeadLetters is a DeadLetterStore in memory; failures fail its next writes.
type memDeadLetters struct {
	mu       sync.Mutex
	letters  []event.DeadLetter
	failures []error
	writes   int
}

func (m *memDeadLetters) Add(_ context.Context, l event.DeadLetter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	if len(m.failures) > 0 {
		err := m.failures[0]
		m.failures = m.failures[1:]
		return err
	}
	m.letters = append(m.letters, l)
	return nil
}

func (m *memDeadLetters) all() []event.DeadLetter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.letters)
}

// recFailures records retries and dead letters.
type recFailures struct {
	mu      sync.Mutex
	retries []string // "attempt/delay"
	dead    []string // reasons
}

func (f *recFailures) EventRetried(_ event.Kind, attempt int, delay time.Duration, _ error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retries = append(f.retries, fmt.Sprintf("%d/%s", attempt, delay))
}

func (f *recFailures) EventDeadLettered(_ event.Kind, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead = append(f.dead, reason)
}

func (f *recFailures) get() ([]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.retries), slices.Clone(f.dead)
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

func TestDispatcherFailureHandling(t *testing.T) {
	updEvent := func(id, name string) event.Event {
		return event.Event{Kind: event.ProjectUpdated, ProjectID: id, Op: "update", Set: map[string]any{"name": name},
			Token: bson.Raw(rawDoc(bson.D{{Key: "_data", Value: "T-" + name}})), ClusterTime: bson.Timestamp{T: 7, I: 1}}
	}
	limitErr := fmt.Errorf("sync: %w", event.ErrSafetyLimit)
	tests := []struct {
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
	}{
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := &failApplier{fail: tt.fail, always: tt.always}
			done := &recDone{}
			store := &memDeadLetters{failures: tt.storeFails}
			fails := &recFailures{}
			opts := []DispatchOption{WithRetry(testPolicy(tt.attempts)), WithFailureObserver(fails),
				withClock(&autoClock{now: time.Unix(1000, 0)})}
			if !tt.noStore {
				opts = append(opts, WithDeadLetters(store))
			}
			d := NewDispatcher(ap, done, nil, zerolog.Nop(), 2, 4, opts...)
			d.Start(context.Background())
			for i, ev := range tt.events {
				if err := d.Dispatch(context.Background(), uint64(i), ev); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "every event to complete", func() bool { return done.count() >= len(tt.events) })
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
		})
	}
}

// A retrying project holds its own later events back, not the other
// projects of its worker.
func TestDispatcherRetryParksOnlyItsProject(t *testing.T) {
	ap := &failApplier{fail: map[string][]error{"p1": {errUnavailable}}}
	done := &recDone{}
	clk := newManualClock()
	d := NewDispatcher(ap, done, nil, zerolog.Nop(), 1, 8, WithRetry(testPolicy(3)), withClock(clk),
		WithDeadLetters(&memDeadLetters{}))
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
	waitFor(t, "the other projects to be applied while p1 waits", func() bool { return done.count() == 2 })
	applied, _ := ap.snapshot()
	if !slices.Equal(applied, []string{"p2/delete", "p3/delete"}) {
		t.Fatalf("applied %v while p1 waits, want p2 and p3 only", applied)
	}
	<-clk.armed
	clk.fireAll()
	waitFor(t, "p1 to be retried", func() bool { return done.count() == 4 })
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
	d := NewDispatcher(ap, done, nil, zerolog.Nop(), 1, 4, WithRetry(testPolicy(5)), withClock(clk),
		WithDeadLetters(&memDeadLetters{}))
	d.Start(context.Background())
	for i, id := range []string{"p1", "p1", "p2"} {
		if err := d.Dispatch(context.Background(), uint64(i), event.Event{Kind: event.ProjectDeleted, ProjectID: id}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "p2 to be applied", func() bool { return done.count() == 1 })
	d.Close()
	if done.count() != 1 {
		t.Fatalf("%d completions after Close, want 1 (the parked p1 events stay in flight)", done.count())
	}
	if _, ok := done.get(2); !ok {
		t.Fatal("p2 not completed")
	}
}

// A worker holds at most its queue size in parked events, then stops
// taking from its queue (backpressure instead of unbounded memory).
func TestDispatcherParkedEventsAreBounded(t *testing.T) {
	ap := &failApplier{fail: map[string][]error{"p1": {errUnavailable}}}
	done := &recDone{}
	clk := newManualClock()
	const queue = 2
	d := NewDispatcher(ap, done, nil, zerolog.Nop(), 1, queue, WithRetry(testPolicy(3)), withClock(clk))
	d.Start(context.Background())
	// p1 parks and, with the next p1 event, fills the parked budget; the
	// next 2 fill the queue; the one after must block until the retry frees
	// room.
	const total = queue + queue
	for i := 0; i < total; i++ {
		if err := d.Dispatch(context.Background(), uint64(i), event.Event{Kind: event.ProjectDeleted, ProjectID: "p1"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the worker to hold its budget", func() bool { return len(d.queues[0]) == queue })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := d.Dispatch(ctx, 99, event.Event{Kind: event.ProjectDeleted, ProjectID: "p9"})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dispatch beyond the budget = %v, want it to block", err)
	}
	<-clk.armed
	clk.fireAll()
	d.Close()
	if done.count() != total {
		t.Fatalf("%d completions, want %d", done.count(), total)
	}
}

func TestDispatchInvalidIsDeadLettered(t *testing.T) {
	ap := &failApplier{}
	done := &recDone{}
	store := &memDeadLetters{}
	d := NewDispatcher(ap, done, nil, zerolog.Nop(), 2, 2, WithDeadLetters(store))
	d.Start(context.Background())
	key := docKey(int32(42))
	ch := event.Change{Op: "delete", DocumentKey: key, Token: rawDoc(bson.D{{Key: "_data", Value: "T1"}}), ClusterTime: bson.Timestamp{T: 9}}
	_, _, derr := Derive(ch, nil)
	if !errors.Is(derr, event.ErrInvalidID) {
		t.Fatalf("Derive = %v, want ErrInvalidID", derr)
	}
	if err := d.DispatchInvalid(context.Background(), 0, ch, derr); err != nil {
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

// Apply implements the Applier port by kind.
func (a *failApplier) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	if ev.Kind == event.ProjectDeleted {
		return a.DeleteProject(ctx, ev.ProjectID)
	}
	return a.UpdateProject(ctx, ev.ProjectID, ev.Set, ev.Unset)
}
