package watcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/projectwatcher/watcher/event"
)

// worker applies the next event of each project the scheduler hands it,
// one attempt at a time, and gives the project back; a batch (several
// projects' tasks) goes through tryBatch. The last task it hands back is
// marked freed: the worker takes the next.
func (d *dispatcher) worker(ctx context.Context) {
	var batch []*task
	for head := range d.work {
		batch = batch[:0]
		for t := head; t != nil; t = t.next { // read before any task goes back
			batch = append(batch, t)
		}
		if len(batch) > 1 {
			d.tryBatch(ctx, batch)
			continue
		}
		head.retry = d.try(ctx, head)
		head.freed = true
		d.results <- head
	}
}

// try makes one attempt at t's event. It returns how long the event must
// wait for its next attempt (0: it is complete: applied, dead-lettered, or
// failed for good).
func (d *dispatcher) try(ctx context.Context, t *task) time.Duration {
	j := &t.j
	if j.invalid != nil || strings.TrimSpace(j.ev.ProjectID) == "" {
		cause := j.invalid
		if cause == nil {
			cause = fmt.Errorf("%w: empty project id", event.ErrInvalidID)
		}
		now := d.clk.Now()
		d.deadLetter(ctx, j, 0, event.Report{}, Reason(cause, false), cause, 1, now, now)
		return 0
	}
	start := d.clk.Now()
	began := time.Now()
	rep, err := d.attempt(ctx, &j.ev)
	return d.settle(ctx, t, start, time.Since(began), rep, err)
}

// settle handles the outcome of one attempt at t's event that started at
// start and took took: a repair's goes to its caller; an applied event
// completes; a failure is retried or dead-lettered (failed). It returns
// how long the event must wait for its next attempt (0: none).
func (d *dispatcher) settle(ctx context.Context, t *task, start time.Time, took time.Duration, rep event.Report, err error) time.Duration {
	j := &t.j
	if j.reply != nil { // a repair: one attempt, its outcome to the caller
		j.reply <- outcome{rep: rep, err: err}
		return 0
	}
	if err == nil {
		d.complete(j, took, rep, nil, nil)
		return 0
	}
	if ctx.Err() != nil || errors.Is(err, event.ErrTermEnded) {
		// Applies were cancelled (a stop cut short, a lost lease), or a
		// write was refused because the lease term ended (the cancel may
		// not have arrived yet): the event is left unfinished, so the
		// checkpoint stays before it and it is replayed. It is not a
		// failure of the event.
		d.log.Warn().Err(err).Str("projectId", j.ev.ProjectID).Str("kind", j.ev.Kind.String()).
			Msg("event abandoned: applies were cancelled or the lease term ended; it is replayed at the next start")
		return 0
	}
	return d.failed(ctx, t, start, took, rep, err)
}

// failed handles a failed attempt of t's event that started at start: a
// transient failure with attempts left waits for a retry; anything else is
// dead-lettered. An attempt that failed while its service answered nothing
// (Dependencies) does not count: an outage pauses the event.
func (d *dispatcher) failed(ctx context.Context, t *task, start time.Time, took time.Duration, rep event.Report, err error) time.Duration {
	j, p := &t.j, &t.tries
	now := d.clk.Now()
	p.failed++
	p.lastErr = err
	if p.first.IsZero() {
		p.first = now
	}
	transient := IsTransient(err)
	outage := transient && d.deps != nil && !d.deps.Answering(err, start)
	if !outage {
		p.counted++
	}
	if transient && p.counted < d.retry.Attempts() {
		delay := d.retry.Delay(p.failed)
		e := d.log.Warn().Err(err).Str("projectId", j.ev.ProjectID).Str("kind", j.ev.Kind.String()).
			Int("attempt", p.failed).Int("counted", p.counted).Int("maxAttempts", d.retry.Attempts()).
			Float64("delayMs", float64(delay.Microseconds())/1000).Int("waiting", t.behind)
		if outage {
			e.Msg("transient failure while the service answers nothing (outage); retrying the event after a backoff, the attempt does not count")
		} else {
			e.Msg("transient failure; retrying the event after a backoff (later events of the project wait)")
		}
		d.failures.EventRetried(j.ev.Kind, p.failed, delay, err)
		return max(delay, time.Nanosecond)
	}
	d.deadLetter(ctx, j, took, rep, Reason(err, transient), err, p.failed, p.first, now)
	return 0
}

// deadLetter parks j in the dead-letter store, then completes it. Without
// a store, or when the write fails, j completes with its error (the
// watermark stays before it and the watcher stops).
func (d *dispatcher) deadLetter(ctx context.Context, j *job, took time.Duration, rep event.Report, why string, err error, attempts int, first, last time.Time) {
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
