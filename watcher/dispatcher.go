package watcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/clock"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// completer is told when a tracked change is finished (the watermark).
type completer interface {
	Done(seq uint64, err error) error
}

// dispatcher applies derived events with a fixed set of workers, scheduled
// by project: the events of one project are applied one after another in
// stream order, and any free worker takes the next project that has an
// event ready. A long event (a giant cleanup) occupies one worker and never
// holds back another project's events.
//
// At most maxHeld events are held at once (queued, being applied or
// waiting for a retry: queue per worker, plus one being applied by each);
// Dispatch blocks beyond that, pushing back on the
// stream reader: nothing is dropped and nothing grows without bound.
//
// Batches: when the applier is a BatchApplier and more projects are
// ready than workers are free, a free worker takes up to maxBatch of them
// at once whose next events read the same (batchKey), one event per
// project: their discovery queries are combined, and each event is
// prepared, applied, retried or dead-lettered on its own, its project
// handed back as soon as its event is finished (a long event in a batch
// occupies that worker, never the batch's other projects).
//
// Failures (see withRetry, withDeadLetters): a transient failure is retried
// after a backoff; the project waits (its later events wait behind the
// failed one) while the workers go on with other projects. An attempt that
// failed while its service answered nothing at all (an outage, see
// Dependencies) does not count against the attempts, so an outage pauses
// events instead of dead-lettering them. An event that fails permanently
// or runs out of attempts is written to the dead-letter store and only then
// completed, so the checkpoint never passes an event that is neither
// applied nor parked. Without a dead-letter store, or when writing the dead
// letter fails, the event completes with its error: the watermark stays
// before it and the watcher stops.
type dispatcher struct {
	applier  Applier
	batcher  BatchApplier // the applier, when it applies batches
	batchMax int          // events a worker takes at once (1: no batches)
	done     completer
	obs      Observer
	log      zerolog.Logger
	retry    RetryPolicy
	resolver ProjectReader
	dead     DeadLetterStore
	failures FailureObserver
	deps     Dependencies
	clk      clock.Clock
	dryRun   bool
	workers  int
	maxHeld  int

	in      chan job      // Dispatch → scheduler
	work    chan *task    // scheduler → workers: the next event of a project (and of the others of its batch, task.next)
	results chan *task    // workers → scheduler: each task after one attempt
	stopped chan struct{} // closed when the scheduler and the workers are gone
	closing chan struct{} // closed when Close starts: senders give up
	sendMu  sync.RWMutex  // senders hold it shared; Close closes in under it

	held, waiting atomic.Int64 // what the scheduler holds, for Pending
	startOnce     sync.Once
	closeOnce     sync.Once
}

type job struct {
	seq uint64
	ev  event.Event
	// invalid is set for a change that cannot be applied as it is (its _id
	// cannot name a project, a value cannot be copied); docKey is then its
	// documentKey.
	invalid error
	docKey  bson.Raw
	// reply, for a repair (ApplyNow), receives the outcome of one attempt;
	// a repair is not tracked by the watermark.
	reply chan<- outcome
	// batch is batchKey's (set when the dispatcher makes batches).
	batch string
}

// outcome is what one attempt at a repair did.
type outcome struct {
	rep event.Report
	err error
}

// errUnknownKind reports an event the dispatcher does not know how to apply.
var errUnknownKind = errors.New("unknown event kind")

// dispatchOption configures a dispatcher.
type dispatchOption func(*dispatcher)

// withRetry retries transient failures (IsTransient) by p.
func withRetry(p RetryPolicy) dispatchOption { return func(d *dispatcher) { d.retry = p } }

// withResolver reads Event.Lookup paths from MongoDB before each attempt,
// so a failed lookup is retried like a failed apply.
func withResolver(r ProjectReader) dispatchOption { return func(d *dispatcher) { d.resolver = r } }

// withDeadLetters parks events that fail for good in s.
func withDeadLetters(s DeadLetterStore) dispatchOption { return func(d *dispatcher) { d.dead = s } }

// withFailureObserver reports retries and dead letters to f.
func withFailureObserver(f FailureObserver) dispatchOption {
	return func(d *dispatcher) {
		if f != nil {
			d.failures = f
		}
	}
}

// withDependencies tells whether the service of a failed attempt answered.
func withDependencies(deps Dependencies) dispatchOption {
	return func(d *dispatcher) { d.deps = deps }
}

// withDryRun says the applier writes nothing (the logs say "would apply").
func withDryRun(dry bool) dispatchOption { return func(d *dispatcher) { d.dryRun = dry } }

// withClock replaces the wall clock (tests).
func withClock(c clock.Clock) dispatchOption { return func(d *dispatcher) { d.clk = c } }

// newDispatcher returns a dispatcher with workers workers holding up to
// workers×(queue+1) events. Completions go to done; obs may be nil.
func newDispatcher(applier Applier, done completer, obs Observer, log zerolog.Logger, workers, queue int, opts ...dispatchOption) *dispatcher {
	workers, queue = max(workers, 1), max(queue, 1)
	if obs == nil {
		obs = NopObserver{}
	}
	d := &dispatcher{
		applier: applier, done: done, obs: obs, log: log, failures: nopFailures{}, clk: clock.System{},
		workers: workers, maxHeld: workers * (queue + 1),
		in: make(chan job), work: make(chan *task), results: make(chan *task), stopped: make(chan struct{}),
		closing: make(chan struct{}),
	}
	if b, ok := applier.(BatchApplier); ok {
		d.batcher, d.batchMax = b, maxBatch
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Start starts the scheduler and the workers; they apply events with ctx.
// Give it a context that outlives the stream reader's so queued events can
// drain on shutdown.
func (d *dispatcher) Start(ctx context.Context) {
	d.startOnce.Do(func() {
		var wg sync.WaitGroup
		for range d.workers {
			wg.Go(func() { d.worker(ctx) })
		}
		go func() {
			d.schedule(ctx)
			wg.Wait()
			close(d.stopped)
		}()
	})
}

// Dispatch queues ev (tracked as seq). It blocks while the dispatcher holds
// its maximum and returns ctx's error if ctx ends first, or an error once
// Close has started (the event is then not queued and stays in flight).
func (d *dispatcher) Dispatch(ctx context.Context, seq uint64, ev event.Event) error {
	return d.enqueue(ctx, job{seq: seq, ev: ev})
}

// DispatchInvalid queues a change that cannot be applied as it is (cause
// wraps event.ErrInvalidID, or event.ErrInvalidValue with the event ev
// derived so far): it is dead-lettered with the reason of cause, without
// any Firestore call.
func (d *dispatcher) DispatchInvalid(ctx context.Context, seq uint64, ch event.Change, ev event.Event, cause error) error {
	ev.Op, ev.Token, ev.ClusterTime, ev.WallTime = ch.Op, ch.Token, ch.ClusterTime, ch.WallTime
	if ev.Kind == 0 {
		switch ch.Op {
		case "delete":
			ev.Kind = event.ProjectDeleted
		case "update", "replace":
			ev.Kind = event.ProjectUpdated
		}
	}
	return d.enqueue(ctx, job{seq: seq, ev: ev, invalid: cause, docKey: ch.DocumentKey})
}

// ApplyNow applies ev in its project's order with the stream's events,
// without tracking it (it never holds back the checkpoint), and returns
// what one attempt did: no retry, no dead letter (the caller, a repair,
// decides). It fails when the dispatcher is closing.
func (d *dispatcher) ApplyNow(ctx context.Context, ev event.Event) (event.Report, error) {
	reply := make(chan outcome, 1)
	if err := d.enqueue(ctx, job{ev: ev, reply: reply}); err != nil {
		return event.Report{}, err
	}
	select {
	case o := <-reply:
		return o.rep, o.err
	case <-ctx.Done():
		return event.Report{}, ctx.Err()
	}
}

// errClosing is the answer to a dispatch during Close.
var errClosing = errors.New("the dispatcher is closing")

func (d *dispatcher) enqueue(ctx context.Context, j job) error {
	d.sendMu.RLock()
	defer d.sendMu.RUnlock()
	select {
	case <-d.closing:
		return fmt.Errorf("dispatch %s %s: %w", j.ev.Kind, j.ev.ProjectID, errClosing)
	default:
	}
	select {
	case d.in <- j:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dispatch %s %s: %w", j.ev.Kind, j.ev.ProjectID, ctx.Err())
	case <-d.closing:
		return fmt.Errorf("dispatch %s %s: %w", j.ev.Kind, j.ev.ProjectID, errClosing)
	}
}

// Close stops accepting events and waits until the workers have applied
// (or dead-lettered) every queued event. Events waiting for a retry, and
// the later events of their projects, are left unfinished: the checkpoint
// stays before them and they are replayed at the next start (no backoff is
// waited out on shutdown). Start must have been called.
func (d *dispatcher) Close() {
	d.closeOnce.Do(func() {
		close(d.closing)
		d.sendMu.Lock() // every sender has given up or sent
		close(d.in)
		d.sendMu.Unlock()
	})
	<-d.stopped
}

// Pending is how many events the dispatcher holds (queued, being applied
// or waiting for a retry) and how many projects wait for a retry.
func (d *dispatcher) Pending() (events, retrying int) {
	return int(d.held.Load()), int(d.waiting.Load())
}
