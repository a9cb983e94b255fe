package watcher

import (
	"context"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/crashpoint"
	"github.com/rs/zerolog"
)

// attempt is one try of an event: prepare it, then apply it.
func (d *dispatcher) attempt(ctx context.Context, ev *event.Event) (event.Report, error) {
	if d.resolver != nil {
		if err := Prepare(ctx, d.resolver, ev); err != nil {
			return event.Report{}, err
		}
	}
	return d.apply(ctx, ev)
}

// apply applies a prepared event.
func (d *dispatcher) apply(ctx context.Context, ev *event.Event) (event.Report, error) {
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
	return rep, applyErr(ev, err)
}

// applyErr is err of applying ev, naming it.
func applyErr(ev *event.Event, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("apply %s of project %s: %w", ev.Kind, ev.ProjectID, err)
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
		d.log.Warn().Err(err).Int("attempt", n).Float64("delayMs", float64(delay.Microseconds())/1000).Str("projectId", l.ProjectID).
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
	switch {
	case err != nil:
		e.Msg("event failed; the checkpoint stays before it")
	case d.dryRun:
		e.Bool("dryRun", true).Msg("dry run: would apply the event; nothing written")
	default:
		e.Msg("event applied")
	}
	if de := d.log.Debug(); de != nil {
		de.Str("projectId", ev.ProjectID).Str("token", tokenString(ev.Token)).Msg("event token")
	}
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
