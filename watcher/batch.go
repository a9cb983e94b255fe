package watcher

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/projectwatcher/watcher/event"
)

// maxBatch is the most events a worker takes at once: Firestore's limit of
// values in an `in` filter, which their discovery queries share.
const maxBatch = 30

// prepareConcurrency bounds the events of one batch prepared (read on
// MongoDB) at the same time.
const prepareConcurrency = 8

// errNotReported is the outcome of an event of a batch the BatchApplier
// returned without reporting (a broken implementation): the event fails
// instead of being lost.
var errNotReported = errors.New("the batch applier returned without reporting the event")

// batchKey says which waiting events a worker may take together: deletes
// with deletes, and updates with updates of the same source fields (set,
// unset or to be looked up: their copies are the same target fields, so
// their discovery queries select the same). It is "" for an event never
// batched: an invalid change, an empty project id, an unknown kind.
func batchKey(j *job) string {
	if j.invalid != nil || strings.TrimSpace(j.ev.ProjectID) == "" {
		return ""
	}
	switch j.ev.Kind {
	case event.ProjectDeleted:
		return "delete"
	case event.ProjectUpdated:
		ev := &j.ev
		paths := make([]string, 0, len(ev.Set)+len(ev.Unset)+len(ev.Lookup))
		for p := range ev.Set {
			paths = append(paths, p)
		}
		paths = append(append(paths, ev.Unset...), ev.Lookup...)
		slices.Sort(paths)
		return "update\x00" + strings.Join(slices.Compact(paths), "\x00")
	}
	return ""
}

// pick is the batch the scheduler offers a free worker: the oldest ready
// project's next event, and when the dispatcher makes batches, the next
// events of later ready projects with the same batchKey, one per project.
// A batch is as large as spreads the ready projects over the free workers
// (never above maxBatch): while workers are free, events go one by one.
// An event that failed an attempt is retried alone: a batch fails an event
// at most once (a combined query can be too slow for firestore.callTimeout
// on a backend that scans, where the event's own query is not). The tasks
// are chained by task.next; s.picked holds their places in s.ready until
// handedOut.
func (s *scheduler) pick() *task {
	head := s.ready[0]
	head.task = s.taskOf(head)
	s.picked = append(s.picked[:0], 0)
	key := head.jobs[0].batch
	if key == "" || s.d.batchMax <= 1 || head.tries.failed > 0 {
		return &head.task
	}
	idle := s.d.workers - s.busy
	size := min(s.d.batchMax, (len(s.ready)+idle-1)/idle)
	tail := &head.task
	for i := 1; i < len(s.ready) && len(s.picked) < size; i++ {
		p := s.ready[i]
		if p.jobs[0].batch != key || p.tries.failed > 0 {
			continue
		}
		p.task = s.taskOf(p)
		tail.next = &p.task
		tail = &p.task
		s.picked = append(s.picked, i)
	}
	return &head.task
}

// taskOf is the attempt a worker makes at p's next event.
func (s *scheduler) taskOf(p *project) task {
	return task{p: p, j: p.jobs[0], tries: p.tries, behind: len(p.jobs) - 1}
}

// handedOut takes the picked projects out of the ready ones: a worker
// has them.
func (s *scheduler) handedOut() {
	s.busy++
	s.running += len(s.picked)
	if len(s.picked) == 1 && s.picked[0] == 0 {
		s.ready[0].running = true
		s.ready[0] = nil
		s.ready = s.ready[1:]
		return
	}
	kept, k := 0, 0
	for i, p := range s.ready {
		if k < len(s.picked) && s.picked[k] == i {
			p.running = true
			k++
			continue
		}
		s.ready[kept] = p
		kept++
	}
	clear(s.ready[kept:])
	s.ready = s.ready[:kept]
}

// tryBatch makes one attempt at each event of batch, tasks of distinct
// projects: each is prepared on its own (one that fails goes back with its
// own outcome at once), the others are applied together through the
// BatchApplier (one alone through Apply), and each task goes back to the
// scheduler as soon as its event is finished, with its own retry or dead
// letter (settle), while the worker waits for the rest.
func (d *dispatcher) tryBatch(ctx context.Context, batch []*task) {
	start, began := d.clk.Now(), time.Now()
	var left atomic.Int32
	left.Store(int32(len(batch)))
	back := func(t *task, rep event.Report, err error) {
		t.retry = d.settle(ctx, t, start, time.Since(began), rep, err)
		t.freed = left.Add(-1) == 0
		d.results <- t
	}
	ready := d.prepareBatch(ctx, batch, back)
	switch len(ready) {
	case 0:
		return
	case 1:
		rep, err := d.apply(ctx, &ready[0].j.ev)
		back(ready[0], rep, err)
		return
	}
	evs := make([]event.Event, len(ready))
	for i, t := range ready {
		evs[i] = t.j.ev
	}
	if e := d.log.Debug(); e != nil {
		e.Int("events", len(evs)).Str("kind", evs[0].Kind.String()).Msg("applying a batch of events together")
	}
	reported := make([]atomic.Bool, len(ready))
	d.batcher.ApplyBatch(ctx, evs, func(i int, rep event.Report, err error) {
		if i < 0 || i >= len(ready) || reported[i].Swap(true) {
			d.log.Error().Int("index", i).Msg("the batch applier reported an event twice or one it was not given; ignored")
			return
		}
		back(ready[i], rep, applyErr(&ready[i].j.ev, err))
	})
	for i, t := range ready {
		if !reported[i].Load() {
			back(t, event.Report{}, applyErr(&t.j.ev, errNotReported))
		}
	}
}

// prepareBatch prepares the events of batch (Prepare), up to
// prepareConcurrency at once; an event that fails is handed back at once.
// It returns the others, in order.
func (d *dispatcher) prepareBatch(ctx context.Context, batch []*task, back func(*task, event.Report, error)) []*task {
	if d.resolver == nil {
		return slices.Clone(batch)
	}
	ok := make([]bool, len(batch))
	sem := make(chan struct{}, prepareConcurrency)
	var wg sync.WaitGroup
	for i, t := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := Prepare(ctx, d.resolver, &t.j.ev); err != nil {
				back(t, event.Report{}, err)
				return
			}
			ok[i] = true
		})
	}
	wg.Wait()
	ready := make([]*task, 0, len(batch))
	for i, t := range batch {
		if ok[i] {
			ready = append(ready, t)
		}
	}
	return ready
}
