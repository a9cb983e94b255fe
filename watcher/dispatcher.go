package watcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/projectwatcher/watcher/internal/crashpoint"
	fssync "github.com/projectwatcher/watcher/sync"
	"github.com/rs/zerolog"
)

// completer is told when a tracked change is finished (the Checkpointer).
type completer interface {
	Done(seq uint64, err error) error
}

// Dispatcher applies derived events with a fixed set of workers. Events are
// partitioned by project id (hash of the id → worker), so the events of one
// project are applied one after another in stream order while different
// projects proceed in parallel. Each worker has a bounded queue: Dispatch
// blocks while it is full, pushing back on the stream reader; nothing is
// dropped and nothing grows without bound.
type Dispatcher struct {
	applier Applier
	done    completer
	obs     Observer
	log     zerolog.Logger

	queues    []chan job
	wg        sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once
}

type job struct {
	seq uint64
	ev  Event
}

// errUnknownKind reports an event the dispatcher does not know how to apply.
var errUnknownKind = errors.New("unknown event kind")

// NewDispatcher returns a Dispatcher with workers workers, each queueing up
// to queue events. Completions go to done; obs may be nil.
func NewDispatcher(applier Applier, done completer, obs Observer, log zerolog.Logger, workers, queue int) *Dispatcher {
	if workers < 1 {
		workers = 1
	}
	if queue < 1 {
		queue = 1
	}
	if obs == nil {
		obs = nopObserver{}
	}
	d := &Dispatcher{applier: applier, done: done, obs: obs, log: log, queues: make([]chan job, workers)}
	for i := range d.queues {
		d.queues[i] = make(chan job, queue)
	}
	return d
}

// Start starts the workers; they apply events with ctx. Give it a context
// that outlives the stream reader's so queued events can drain on shutdown.
func (d *Dispatcher) Start(ctx context.Context) {
	d.startOnce.Do(func() {
		for _, q := range d.queues {
			d.wg.Add(1)
			go d.work(ctx, q)
		}
	})
}

// Dispatch queues ev (tracked as seq) on its project's worker. It blocks
// while that queue is full and returns ctx's error if ctx ends first (the
// event is then not queued and stays in flight). Dispatch must not be
// called concurrently with or after Close.
func (d *Dispatcher) Dispatch(ctx context.Context, seq uint64, ev Event) error {
	q := d.queues[partition(ev.ProjectID, len(d.queues))]
	select {
	case q <- job{seq: seq, ev: ev}:
		return nil
	default:
	}
	select {
	case q <- job{seq: seq, ev: ev}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dispatch %s %s: %w", ev.Kind, ev.ProjectID, ctx.Err())
	}
}

// Close stops accepting events and waits until the workers have applied
// every queued event.
func (d *Dispatcher) Close() {
	d.closeOnce.Do(func() {
		for _, q := range d.queues {
			close(q)
		}
	})
	d.wg.Wait()
}

func (d *Dispatcher) work(ctx context.Context, q <-chan job) {
	defer d.wg.Done()
	for j := range q {
		d.apply(ctx, j)
	}
}

func (d *Dispatcher) apply(ctx context.Context, j job) {
	ev := &j.ev
	start := time.Now()
	var (
		rep fssync.Report
		err error
	)
	switch ev.Kind {
	case ProjectDeleted:
		rep, err = d.applier.DeleteProject(ctx, ev.ProjectID)
	case ProjectUpdated:
		rep, err = d.applier.UpdateProject(ctx, ev.ProjectID, ev.Set, ev.Unset)
	default:
		err = fmt.Errorf("%w %d", errUnknownKind, int(ev.Kind))
	}
	took := time.Since(start)
	if err != nil {
		err = fmt.Errorf("apply %s of project %s: %w", ev.Kind, ev.ProjectID, err)
	}
	crashpoint.Hit("after-apply-before-checkpoint")
	if derr := d.done.Done(j.seq, err); derr != nil {
		d.log.Error().Err(derr).Uint64("seq", j.seq).Msg("completion not accepted by the checkpointer")
	}
	d.obs.EventApplied(ev.Kind, ev.ProjectID, took, clusterTimeOf(ev), rep, err)
	d.logApplied(ev, took, rep, err)
}

func (d *Dispatcher) logApplied(ev *Event, took time.Duration, rep fssync.Report, err error) {
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

// clusterTimeOf is the event's cluster time as a time (second precision),
// falling back to its wall time.
func clusterTimeOf(ev *Event) time.Time {
	if ev.ClusterTime.T != 0 {
		return time.Unix(int64(ev.ClusterTime.T), 0).UTC()
	}
	return ev.WallTime
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
type reportLog fssync.Report

func (r reportLog) MarshalZerologArray(a *zerolog.Array) {
	for _, c := range r.Collections {
		a.Object(collectionLog(c))
	}
}

type collectionLog fssync.CollectionReport

func (c collectionLog) MarshalZerologObject(e *zerolog.Event) {
	e.Str("collection", c.Collection).
		Int("matched", c.Matched).
		Int("deleted", c.Deleted).
		Int("archived", c.Archived).
		Int("updated", c.Updated)
}
