package watcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/clock"
	"github.com/projectwatcher/watcher/internal/crashpoint"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// completer is told when a tracked change is finished (the Checkpointer).
type completer interface {
	Done(seq uint64, err error) error
}

// dispatcher applies derived events with a fixed set of workers. Events are
// partitioned by project id (hash of the id → worker), so the events of one
// project are applied one after another in stream order while different
// projects proceed in parallel. Each worker has a bounded queue: Dispatch
// blocks while it is full, pushing back on the stream reader; nothing is
// dropped and nothing grows without bound.
//
// Failures (see WithRetry, WithDeadLetters): a transient failure is retried
// after a backoff. The worker does not sleep meanwhile: it parks the
// project (the failed event and every later event of that project wait, in
// order) and goes on with the other projects of its queue; when the backoff
// is over it tries the parked event again. A worker holds at most as many
// parked events as its queue size; beyond that it stops taking events from
// its queue until a retry frees room (so memory stays bounded and the
// stream reader is pushed back). An event that fails permanently or runs out
// of attempts is written to the dead-letter store and only then completed,
// so the checkpoint never passes an event that is neither applied nor
// parked. Without a dead-letter store, or when writing the dead letter
// fails, the event completes with its error: the watermark stays before it
// and the watcher stops.
type dispatcher struct {
	applier  Applier
	done     completer
	obs      Observer
	log      zerolog.Logger
	retry    RetryPolicy
	resolver FieldResolver
	dead     DeadLetterStore
	failures FailureObserver
	clk      clock.Clock
	maxHeld  int

	queues    []chan job
	wg        sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once
}

type job struct {
	seq uint64
	ev  event.Event
	// invalid is set for a change that could not be derived because its
	// _id cannot name a project; docKey is then its documentKey.
	invalid error
	docKey  bson.Raw
}

// errUnknownKind reports an event the dispatcher does not know how to apply.
var errUnknownKind = errors.New("unknown event kind")

// dispatchOption configures a Dispatcher.
type dispatchOption func(*dispatcher)

// withRetry retries transient failures (IsTransient) by p.
func withRetry(p RetryPolicy) dispatchOption { return func(d *dispatcher) { d.retry = p } }

// withResolver reads Event.Lookup paths from MongoDB before each attempt,
// so a failed lookup is retried like a failed apply.
func withResolver(r FieldResolver) dispatchOption { return func(d *dispatcher) { d.resolver = r } }

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

// withClock replaces the wall clock (tests).
func withClock(c clock.Clock) dispatchOption { return func(d *dispatcher) { d.clk = c } }

// newDispatcher returns a Dispatcher with workers workers, each queueing up
// to queue events. Completions go to done; obs may be nil.
func newDispatcher(applier Applier, done completer, obs Observer, log zerolog.Logger, workers, queue int, opts ...dispatchOption) *dispatcher {
	if workers < 1 {
		workers = 1
	}
	if queue < 1 {
		queue = 1
	}
	if obs == nil {
		obs = NopObserver{}
	}
	d := &dispatcher{
		applier: applier, done: done, obs: obs, log: log, queues: make([]chan job, workers),
		failures: nopFailures{}, clk: clock.System{}, maxHeld: queue,
	}
	for _, o := range opts {
		o(d)
	}
	for i := range d.queues {
		d.queues[i] = make(chan job, queue)
	}
	return d
}

// Start starts the workers; they apply events with ctx. Give it a context
// that outlives the stream reader's so queued events can drain on shutdown.
func (d *dispatcher) Start(ctx context.Context) {
	d.startOnce.Do(func() {
		for _, q := range d.queues {
			d.wg.Add(1)
			w := &worker{d: d, q: q, parked: map[string]*parkedProject{}}
			go w.run(ctx)
		}
	})
}

// Dispatch queues ev (tracked as seq) on its project's worker. It blocks
// while that queue is full and returns ctx's error if ctx ends first (the
// event is then not queued and stays in flight). Dispatch must not be
// called concurrently with or after Close.
func (d *dispatcher) Dispatch(ctx context.Context, seq uint64, ev event.Event) error {
	return d.enqueue(ctx, job{seq: seq, ev: ev})
}

// DispatchInvalid queues a change whose documentKey._id cannot name a
// project (cause wraps ErrInvalidID): it is dead-lettered with reason
// invalid-id, without any Firestore call.
func (d *dispatcher) DispatchInvalid(ctx context.Context, seq uint64, ch event.Change, cause error) error {
	ev := event.Event{Op: ch.Op, Token: ch.Token, ClusterTime: ch.ClusterTime, WallTime: ch.WallTime}
	if ch.Op == "delete" {
		ev.Kind = event.ProjectDeleted
	} else if ch.Op == "update" || ch.Op == "replace" {
		ev.Kind = event.ProjectUpdated
	}
	return d.enqueue(ctx, job{seq: seq, ev: ev, invalid: cause, docKey: ch.DocumentKey})
}

func (d *dispatcher) enqueue(ctx context.Context, j job) error {
	q := d.queues[partition(j.ev.ProjectID, len(d.queues))]
	select {
	case q <- j:
		return nil
	default:
	}
	select {
	case q <- j:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dispatch %s %s: %w", j.ev.Kind, j.ev.ProjectID, ctx.Err())
	}
}

// Close stops accepting events and waits until the workers have applied
// (or dead-lettered) every queued and parked event.
func (d *dispatcher) Close() {
	d.closeOnce.Do(func() {
		for _, q := range d.queues {
			close(q)
		}
	})
	d.wg.Wait()
}

// attempt is one try of an event: resolve its lookups, then apply it.
func (d *dispatcher) attempt(ctx context.Context, ev *event.Event) (event.Report, error) {
	if len(ev.Lookup) > 0 && d.resolver != nil {
		if err := d.resolver.Resolve(ctx, ev); err != nil {
			return event.Report{}, fmt.Errorf("resolve fields of project %s: %w", ev.ProjectID, err)
		}
	}
	var (
		rep event.Report
		err error
	)
	switch ev.Kind {
	case event.ProjectDeleted, event.ProjectUpdated:
		rep, err = d.applier.Apply(ctx, *ev)
	default:
		err = fmt.Errorf("%w %d", errUnknownKind, int(ev.Kind))
	}
	if err != nil {
		err = fmt.Errorf("apply %s of project %s: %w", ev.Kind, ev.ProjectID, err)
	}
	return rep, err
}

// reason tells why a failed event is dead-lettered.
func reason(err error, transient bool) string {
	switch {
	case errors.Is(err, event.ErrInvalidID), errors.Is(err, event.ErrEmptyProjectID):
		return event.ReasonInvalidID
	case errors.Is(err, event.ErrSafetyLimit):
		return event.ReasonSafetyLimit
	case transient:
		return event.ReasonRetriesExhausted
	}
	return event.ReasonApplyFailed
}

// complete reports the end of j: to the checkpointer (doneErr: nil when the
// event is applied or parked in the dead-letter store), the observer and
// the log (err: the event's own error).
func (d *dispatcher) complete(j *job, took time.Duration, rep event.Report, doneErr, err error) {
	crashpoint.Hit("after-apply-before-checkpoint")
	if derr := d.done.Done(j.seq, doneErr); derr != nil {
		d.log.Error().Err(derr).Uint64("seq", j.seq).Msg("completion not accepted by the checkpointer")
	}
	if err == nil {
		err = doneErr
	}
	d.obs.EventApplied(j.ev.Kind, j.ev.ProjectID, took, j.ev.Time(), rep, err)
	if doneErr != nil || err == nil {
		d.logApplied(&j.ev, took, rep, doneErr)
	}
}

// writeDeadLetter stores l, retrying transient failures by the retry
// policy. It gives up on a permanent failure, when attempts run out, or
// when ctx ends.
func (d *dispatcher) writeDeadLetter(ctx context.Context, l event.DeadLetter) error {
	for n := 1; ; n++ {
		err := d.dead.Add(ctx, l)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !IsTransient(err) || n >= max(d.retry.Attempts(), 3) {
			return fmt.Errorf("write dead letter (attempt %d): %w", n, err)
		}
		delay := d.retry.Delay(n)
		d.log.Warn().Err(err).Int("attempt", n).Dur("delay", delay).Str("projectId", l.ProjectID).
			Msg("writing a dead letter failed; retrying")
		select {
		case <-d.clk.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("write dead letter: %w (after: %w)", ctx.Err(), err)
		}
	}
}

func (d *dispatcher) logApplied(ev *event.Event, took time.Duration, rep event.Report, err error) {
	var e *zerolog.Event
	if err != nil {
		e = d.log.Error().Err(err)
	} else {
		e = d.log.Info()
	}
	if e == nil {
		return
	}
	e.Str("projectId", ev.ProjectID).
		Str("kind", ev.Kind.String()).
		Str("op", ev.Op).
		Array("collections", reportLog(rep)).
		Float64("durationMs", float64(took.Microseconds())/1000).
		Uint32("clusterTimeT", ev.ClusterTime.T).Uint32("clusterTimeI", ev.ClusterTime.I)
	if err != nil {
		e.Msg("event failed; the checkpoint stays before it")
	} else {
		e.Msg("event applied")
	}
	if de := d.log.Debug(); de != nil {
		de.Str("projectId", ev.ProjectID).Str("token", tokenString(ev.Token)).Msg("event token")
	}
}

// partition maps a project id to a worker: FNV-1a, no allocation.
func partition(projectID string, n int) int {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(projectID); i++ {
		h ^= uint64(projectID[i])
		h *= prime
	}
	return int(h % uint64(n))
}

// reportLog renders a Report's per-collection counts in a log line.
type reportLog event.Report

func (r reportLog) MarshalZerologArray(a *zerolog.Array) {
	for _, c := range r.Collections {
		a.Object(collectionLog(c))
	}
}

type collectionLog event.CollectionReport

func (c collectionLog) MarshalZerologObject(e *zerolog.Event) {
	e.Str("collection", c.Collection).
		Int("matched", c.Matched).
		Int("deleted", c.Deleted).
		Int("archived", c.Archived).
		Int("updated", c.Updated)
}
