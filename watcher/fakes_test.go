package watcher

// The fakes of the watcher's ports that its tests share, one place each:
// the appliers, observer, dead letters, failures, completions and clocks
// here; the change source, resolver and token stores in fakes_stream_test.go.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/projectwatcher/watcher/event"
)

// recApplier records what it applies, per project, and can block or fail.
type recApplier struct {
	mu      sync.Mutex
	applied map[string][]string // projectID → "delete" / "update:<name>"
	order   []string            // every project id in apply order
	// hook, when set, runs before an apply and may return an error.
	hook func(ctx context.Context, projectID string) error
}

func (a *recApplier) record(ctx context.Context, id, what string) (event.Report, error) {
	if a.hook != nil {
		if err := a.hook(ctx, id); err != nil {
			return event.Report{}, err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.applied == nil {
		a.applied = map[string][]string{}
	}
	a.applied[id] = append(a.applied[id], what)
	a.order = append(a.order, id)
	return event.Report{Collections: []event.CollectionReport{{Collection: "storyboards", Matched: 2, Deleted: 2}}}, nil
}

func (a *recApplier) DeleteProject(ctx context.Context, id string) (event.Report, error) {
	return a.record(ctx, id, "delete")
}

func (a *recApplier) UpdateProject(ctx context.Context, id string, set map[string]any, unset []string) (event.Report, error) {
	return a.record(ctx, id, fmt.Sprintf("update:%v:%v", set["name"], unset))
}

func (a *recApplier) get(id string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.applied[id]...)
}

// recObserver counts what it is told.
type recObserver struct {
	mu      sync.Mutex
	n       map[string]int
	applied []error
	onOpen  func() // called when the stream is reported open (set before Run)
}

func (o *recObserver) inc(k string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[k]++
}

func (o *recObserver) count(k string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[k]
}

func (o *recObserver) Heartbeat() { o.inc("heartbeat") }

func (o *recObserver) StreamOpen(open bool) {
	o.inc(fmt.Sprint("open:", open))
	if open && o.onOpen != nil {
		o.onOpen()
	}
}

func (o *recObserver) ChangeReceived(op string) { o.inc("change:" + op) }

func (o *recObserver) CheckpointSaved(at time.Time) { o.inc("saved") }

func (o *recObserver) EventApplied(k event.Kind, id string, took time.Duration, ct time.Time, r event.Report, err error) {
	o.inc("applied:" + k.String())
	o.mu.Lock()
	o.applied = append(o.applied, err)
	o.mu.Unlock()
}

// Apply implements the Applier port by kind.
func (a *recApplier) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	if ev.Kind == event.ProjectDeleted {
		if !ev.CreatedBy.IsZero() {
			return a.record(ctx, ev.ProjectID, "delete:createdBy="+ev.CreatedBy.UTC().Format(time.RFC3339))
		}
		return a.DeleteProject(ctx, ev.ProjectID)
	}
	return a.UpdateProject(ctx, ev.ProjectID, ev.Set, ev.Unset)
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

// Apply implements the Applier port by kind.
func (a *failApplier) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	if ev.Kind == event.ProjectDeleted {
		return a.DeleteProject(ctx, ev.ProjectID)
	}
	return a.UpdateProject(ctx, ev.ProjectID, ev.Set, ev.Unset)
}

// batchApplier is a failApplier that also applies batches (a
// BatchApplier): it records the projects of each batch and reports each
// event of a batch from its own goroutine. An event of a project in hold
// (batched or not) waits until that channel is closed.
type batchApplier struct {
	failApplier
	hold    map[string]chan struct{}
	held    atomic.Int32 // events waiting for their hold now
	mu      sync.Mutex
	batches [][]string
	cutoffs map[string]time.Time // project → the CreatedBy it was last applied with
}

func (b *batchApplier) note(ev event.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cutoffs == nil {
		b.cutoffs = map[string]time.Time{}
	}
	b.cutoffs[ev.ProjectID] = ev.CreatedBy
}

func (b *batchApplier) createdBy(id string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cutoffs[id]
}

func (b *batchApplier) wait(ctx context.Context, id string) {
	if h := b.hold[id]; h != nil {
		b.held.Add(1)
		defer b.held.Add(-1)
		select {
		case <-h:
		case <-ctx.Done():
		}
	}
}

func (b *batchApplier) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	b.wait(ctx, ev.ProjectID)
	b.note(ev)
	return b.failApplier.Apply(ctx, ev)
}

func (b *batchApplier) ApplyBatch(ctx context.Context, evs []event.Event, done func(int, event.Report, error)) {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ProjectID
	}
	b.mu.Lock()
	b.batches = append(b.batches, ids)
	b.mu.Unlock()
	var wg sync.WaitGroup
	for i, ev := range evs {
		wg.Go(func() {
			b.wait(ctx, ev.ProjectID)
			b.note(ev)
			rep, err := b.failApplier.Apply(ctx, ev)
			done(i, rep, err)
		})
	}
	wg.Wait()
}

func (b *batchApplier) allBatches() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.batches)
}
