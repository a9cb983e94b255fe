package watcher

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/projectwatcher/watcher/event"
)

// worker applies the events of one dispatcher queue. Projects whose head
// event waits for a retry are parked: their later events queue up behind it
// (order per project), while the events of other projects go on.
type worker struct {
	d      *dispatcher
	q      <-chan job
	parked map[string]*parkedProject
	held   int // events in parked projects

	timerAt time.Time
	timerC  <-chan time.Time
}

// parkedProject is a project whose first event failed transiently.
type parkedProject struct {
	jobs    []job     // jobs[0] waits for its next attempt; the rest wait behind it
	failed  int       // failed attempts of jobs[0]
	first   time.Time // first failure of jobs[0]
	due     time.Time // next attempt of jobs[0]
	lastErr error
}

func (w *worker) run(ctx context.Context) {
	defer w.d.wg.Done()
	q := w.q
	ctxDone := ctx.Done()
	for {
		if q == nil {
			// Closed and drained: events waiting for a retry are left
			// unfinished, so the checkpoint stays before them and they
			// are replayed at the next start (no waiting out backoffs
			// on shutdown).
			w.abandon("the dispatcher closed")
			return
		}
		var in <-chan job
		if w.held < w.d.maxHeld {
			in = q
		}
		select {
		case j, ok := <-in:
			if !ok {
				q = nil
				continue
			}
			w.accept(ctx, j)
		case <-w.nextTimer():
			w.timerC = nil
			w.retryDue(ctx)
		case <-ctxDone:
			ctxDone = nil
			w.abandon("applies were cancelled")
		}
	}
}

// nextTimer returns a channel that fires when the earliest parked project
// is due (nil when none is parked).
func (w *worker) nextTimer() <-chan time.Time {
	if len(w.parked) == 0 {
		return nil
	}
	var earliest time.Time
	for _, p := range w.parked {
		if earliest.IsZero() || p.due.Before(earliest) {
			earliest = p.due
		}
	}
	if w.timerC == nil || !earliest.Equal(w.timerAt) {
		w.timerAt = earliest
		w.timerC = w.d.clk.After(max(earliest.Sub(w.d.clk.Now()), 0))
	}
	return w.timerC
}

// accept handles an event taken from the queue.
func (w *worker) accept(ctx context.Context, j job) {
	if p := w.parked[j.ev.ProjectID]; p != nil {
		p.jobs = append(p.jobs, j)
		w.held++
		return
	}
	p := &parkedProject{jobs: []job{j}}
	if w.process(ctx, p) {
		w.parked[j.ev.ProjectID] = p
		w.held += len(p.jobs)
	}
}

// retryDue tries again every parked project whose backoff is over.
func (w *worker) retryDue(ctx context.Context) {
	now := w.d.clk.Now()
	for id, p := range w.parked {
		if p.due.After(now) {
			continue
		}
		w.held -= len(p.jobs)
		if w.process(ctx, p) {
			w.held += len(p.jobs)
		} else {
			delete(w.parked, id)
		}
	}
}

// process applies p's events in order until one must wait for a retry
// (true) or none is left (false).
func (w *worker) process(ctx context.Context, p *parkedProject) bool {
	for len(p.jobs) > 0 {
		if w.try(ctx, &p.jobs[0], p) {
			return true
		}
		p.jobs[0] = job{}
		p.jobs = p.jobs[1:]
		p.failed, p.first, p.lastErr = 0, time.Time{}, nil
	}
	return false
}

// try makes one attempt at j. It returns true when j must wait for a retry
// (p.due is then set); otherwise j is complete (applied, dead-lettered, or
// failed for good).
func (w *worker) try(ctx context.Context, j *job, p *parkedProject) bool {
	d := w.d
	if j.invalid != nil || strings.TrimSpace(j.ev.ProjectID) == "" {
		cause := j.invalid
		if cause == nil {
			cause = fmt.Errorf("%w: empty project id", event.ErrInvalidID)
		}
		now := d.clk.Now()
		w.deadLetter(ctx, j, 0, event.Report{}, event.ReasonInvalidID, cause, 1, now, now)
		return false
	}
	start := time.Now()
	rep, err := d.attempt(ctx, &j.ev)
	took := time.Since(start)
	if err == nil {
		d.complete(j, took, rep, nil, nil)
		return false
	}
	if ctx.Err() != nil {
		d.complete(j, took, rep, err, nil) // shutdown: stays before the watermark
		return false
	}
	now := d.clk.Now()
	p.failed++
	p.lastErr = err
	if p.first.IsZero() {
		p.first = now
	}
	transient := IsTransient(err)
	if transient && p.failed < d.retry.Attempts() {
		delay := d.retry.Delay(p.failed)
		p.due = now.Add(delay)
		d.log.Warn().Err(err).Str("projectId", j.ev.ProjectID).Str("kind", j.ev.Kind.String()).
			Int("attempt", p.failed).Int("maxAttempts", d.retry.Attempts()).Dur("delay", delay).
			Int("waiting", len(p.jobs)-1).
			Msg("transient failure; retrying the event after a backoff (later events of the project wait)")
		d.failures.EventRetried(j.ev.Kind, p.failed, delay, err)
		return true
	}
	w.deadLetter(ctx, j, took, rep, reason(err, transient), err, p.failed, p.first, now)
	return false
}

// deadLetter parks j in the dead-letter store, then completes it. Without
// a store, or when the write fails, j completes with its error (the
// watermark stays before it and the watcher stops).
func (w *worker) deadLetter(ctx context.Context, j *job, took time.Duration, rep event.Report, why string, err error, attempts int, first, last time.Time) {
	d := w.d
	if d.dead == nil {
		d.complete(j, took, rep, err, nil)
		return
	}
	l := newDeadLetter(&j.ev, j.docKey, why, err, attempts, first, last)
	if werr := d.writeDeadLetter(ctx, l); werr != nil {
		d.log.Error().Err(werr).AnErr("eventError", err).Str("projectId", j.ev.ProjectID).Str("reason", why).
			Msg("the failed event could not be written to the dead-letter collection; stopping rather than skipping it")
		d.complete(j, took, rep, fmt.Errorf("%w; the event had failed: %w", werr, err), nil)
		return
	}
	d.failures.EventDeadLettered(j.ev.Kind, why)
	d.log.Error().Err(err).Str("projectId", j.ev.ProjectID).Str("kind", j.ev.Kind.String()).Str("op", j.ev.Op).
		Str("reason", why).Int("attempts", attempts).
		Uint32("clusterTimeT", j.ev.ClusterTime.T).Uint32("clusterTimeI", j.ev.ClusterTime.I).
		Msg("event dead-lettered; see \"watcher dlq list\"")
	d.complete(j, took, rep, nil, err)
}

// abandon leaves every parked event unfinished (in flight): the checkpoint
// stays before them and they are replayed after a restart.
func (w *worker) abandon(why string) {
	for id, p := range w.parked {
		w.d.log.Warn().AnErr("lastError", p.lastErr).Str("projectId", id).Int("events", len(p.jobs)).
			Str("why", why).Msg("events waiting for a retry are left unapplied; the checkpoint stays before them")
		delete(w.parked, id)
	}
	w.held = 0
}
