package bus

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
)

// onEvent is the callback of the event subscription. The client calls it
// for one project's messages one at a time, in order. applyCtx ends only
// when the drain after a stop runs out.
func (w *Worker) onEvent(applyCtx context.Context) func(context.Context, *pubsub.Message) {
	return func(rctx context.Context, m *pubsub.Message) {
		if rctx.Err() != nil { // stopping: leave it to another worker
			m.Nack()
			return
		}
		w.hold(m)
		defer w.release(m)
		select {
		case w.sem <- struct{}{}:
		case <-rctx.Done():
			m.Nack()
			return
		}
		defer func() { <-w.sem }()
		if w.handle(applyCtx, m) {
			m.Ack()
			return
		}
		m.Nack()
	}
}

// handle applies the event of m and reports whether m is done with
// (applied or parked: ack) or must come again (nack).
func (w *Worker) handle(ctx context.Context, m *pubsub.Message) bool {
	start := time.Now()
	attempt := deliveryAttempt(m)
	msg, err := Decode(m.Data)
	if err != nil {
		w.o.Observer.MessageReceived("unknown", m.PublishTime, attempt)
		ok := w.park(ctx, invalidLetter(m, err, start))
		w.o.Observer.MessageDone("unknown", outcome(ok), time.Since(start), time.Time{})
		return ok
	}
	ev := msg.Event
	kind := ev.Kind.String()
	w.o.Observer.MessageReceived(kind, m.PublishTime, attempt)
	log := w.log.With().Str("projectId", ev.ProjectID).Str("kind", kind).Str("eventId", msg.ID).
		Str("messageId", m.ID).Int("deliveryAttempt", attempt).
		Uint32("clusterTimeT", ev.ClusterTime.T).Uint32("clusterTimeI", ev.ClusterTime.I).Logger()
	if e := log.Debug(); e != nil {
		e.Time("publishedAt", m.PublishTime).Msg("message received")
	}
	rep, tries, err := w.applyWithRetries(ctx, &log, ev)
	took := time.Since(start)
	switch {
	case err == nil:
		w.o.Observer.MessageDone(kind, OutcomeApplied, took, ev.Time())
		logApplied(&log, rep, took, w.o.DryRun)
		return true
	case ctx.Err() != nil:
		w.o.Observer.MessageDone(kind, OutcomeNacked, took, time.Time{})
		log.Warn().Err(err).Float64("durationMs", ms(took)).Msg("stopped before the event was applied; it comes again (to this or another worker)")
		return false
	}
	why := watcher.Reason(err, watcher.IsTransient(err))
	ok := w.park(ctx, letter(msg, why, err, tries, start, time.Now()))
	if ok {
		w.o.Failures.EventDeadLettered(ev.Kind, why)
		log.Error().Err(err).Str("reason", why).Int("attempts", tries).
			Msg("event dead-lettered; see \"watcher dlq list\"")
	}
	w.o.Observer.MessageDone(kind, outcome(ok), took, time.Time{})
	return ok
}

// applyWithRetries makes attempts at ev until one succeeds, a failure is
// permanent, the attempts (retry.maxAttempts) run out or ctx ends. It
// returns the attempts made.
func (w *Worker) applyWithRetries(ctx context.Context, log *zerolog.Logger, ev event.Event) (event.Report, int, error) {
	counted := 0
	for n := 1; ; n++ {
		start := time.Now()
		rep, err := w.attempt(ctx, ev)
		if err == nil || ctx.Err() != nil || !watcher.IsTransient(err) {
			return rep, n, err
		}
		outage := w.o.Dependencies != nil && !w.o.Dependencies.Answering(err, start)
		if !outage {
			counted++
		}
		if counted >= w.o.Retry.Attempts() {
			return rep, n, err
		}
		delay := w.o.Retry.Delay(n)
		e := log.Warn().Err(err).Int("attempt", n).Int("counted", counted).Int("maxAttempts", w.o.Retry.Attempts()).
			Float64("delayMs", ms(delay))
		if outage {
			e.Msg("transient failure while the service answers nothing (outage); retrying the event after a backoff, the attempt does not count")
		} else {
			e.Msg("transient failure; retrying the event after a backoff (the project's later events wait)")
		}
		w.o.Failures.EventRetried(ev.Kind, n, delay, err)
		select {
		case <-ctx.Done():
			return rep, n, fmt.Errorf("%w (after: %w)", ctx.Err(), err)
		case <-time.After(delay):
		}
	}
}

// attempt applies ev once, as "watcher dlq retry" does: an update copies
// the project's current values (read on the primary), never the message's,
// so a message delivered again after a newer one writes nothing older;
// then the existence rules (watcher.Prepare), then the applier chain.
func (w *Worker) attempt(ctx context.Context, ev event.Event) (event.Report, error) {
	if ev.Kind == event.ProjectUpdated {
		ev.Lookup = currentFields(ev)
		ev.Set, ev.Unset = nil, nil
	}
	if err := watcher.Prepare(ctx, w.o.Resolver, &ev); err != nil {
		return event.Report{}, err
	}
	if ev.Kind == event.ProjectUpdated && len(ev.Set) == 0 && len(ev.Unset) == 0 {
		return event.Report{}, nil // the project is gone: its delete event handles the assets
	}
	rep, err := w.o.Applier.Apply(ctx, ev)
	if err != nil {
		return rep, fmt.Errorf("apply %s of project %s: %w", ev.Kind, ev.ProjectID, err)
	}
	return rep, nil
}

// currentFields lists the source fields an update touches, once each,
// sorted.
func currentFields(ev event.Event) []string {
	fields := append(slices.Collect(maps.Keys(ev.Set)), ev.Unset...)
	fields = append(fields, ev.Lookup...)
	slices.Sort(fields)
	return slices.Compact(fields)
}

func outcome(parked bool) string {
	if parked {
		return OutcomeDeadLettered
	}
	return OutcomeNacked
}

func deliveryAttempt(m *pubsub.Message) int {
	if m.DeliveryAttempt != nil {
		return *m.DeliveryAttempt
	}
	return 0
}

func logApplied(log *zerolog.Logger, rep event.Report, took time.Duration, dryRun bool) {
	e := log.Info()
	if e == nil {
		return
	}
	matched, written := 0, 0
	for _, c := range rep.Collections {
		matched += c.Matched
		written += c.Deleted + c.Archived + c.Updated
	}
	e = e.Int("matched", matched).Int("written", written).Float64("durationMs", ms(took))
	if dryRun {
		e.Bool("dryRun", true).Msg("dry run: would apply the event; nothing written")
		return
	}
	e.Msg("event applied")
}
