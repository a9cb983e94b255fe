package metrics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/watcher"
)

// DeadLetterCounter counts the stored dead letters (deadletter.Store).
type DeadLetterCounter interface {
	Count(ctx context.Context) (int64, error)
}

// Failures holds the retry and dead-letter metrics. It implements
// watcher.FailureObserver:
//
//	watcher_retries_total{type}            counter: retries of transient failures
//	watcher_dead_lettered_total{reason}    counter: events parked by this process
//	watcher_dead_letters                   gauge: dead letters in the collection (-1 before the first count)
//
// The gauge is the alert: it counts the whole collection (every replica's
// letters, those of earlier runs) and drops when an operator retries or
// purges; Run refreshes it periodically and after each new dead letter.
type Failures struct {
	retries  *prometheus.CounterVec
	lettered *prometheus.CounterVec
	letters  prometheus.Gauge
	kick     chan struct{}
}

var _ watcher.FailureObserver = (*Failures)(nil)

// NewFailures creates the collectors and registers them on reg.
func NewFailures(reg prometheus.Registerer) (*Failures, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil registerer")
	}
	f := &Failures{
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "retries_total",
			Help: "Retries of events after a transient failure, by event type.",
		}, []string{"type"}),
		lettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "dead_lettered_total",
			Help: "Events written to the dead-letter collection by this process, by reason.",
		}, []string{"reason"}),
		letters: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "dead_letters",
			Help: "Dead letters in the dead-letter collection (all of them, not only this process's); -1 before the first count.",
		}),
		kick: make(chan struct{}, 1),
	}
	f.letters.Set(notYet)
	for _, c := range []prometheus.Collector{f.retries, f.lettered, f.letters} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	for _, k := range []event.Kind{event.ProjectDeleted, event.ProjectUpdated} {
		f.retries.WithLabelValues(k.String())
	}
	for _, r := range []string{event.ReasonApplyFailed, event.ReasonRetriesExhausted, event.ReasonInvalidID, event.ReasonSafetyLimit} {
		f.lettered.WithLabelValues(r)
	}
	return f, nil
}

// EventRetried implements watcher.FailureObserver.
func (f *Failures) EventRetried(kind event.Kind, _ int, _ time.Duration, _ error) {
	f.retries.WithLabelValues(kind.String()).Inc()
}

// EventDeadLettered implements watcher.FailureObserver; it also asks Run
// for a fresh count of the collection.
func (f *Failures) EventDeadLettered(_ event.Kind, reason string) {
	f.lettered.WithLabelValues(reason).Inc()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Run keeps watcher_dead_letters up to date: it counts c at once, every
// interval, and after each dead letter, until ctx ends. A failed count
// keeps the last value and calls onErr (may be nil).
func (f *Failures) Run(ctx context.Context, c DeadLetterCounter, interval time.Duration, onErr func(error)) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := c.Count(ctx)
		switch {
		case err == nil:
			f.letters.Set(float64(n))
		case ctx.Err() == nil && onErr != nil:
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.kick:
		}
	}
}
