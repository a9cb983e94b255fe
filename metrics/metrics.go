package metrics

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/clock"
	"github.com/projectwatcher/watcher/watcher"
)

const namespace = "watcher"

// Outcome label values of watcher_events_applied_total.
const (
	OutcomeOK    = "ok"
	OutcomeError = "error"
)

// Action label values of watcher_firestore_documents_total.
const (
	ActionDeleted  = "deleted"
	ActionArchived = "archived"
	ActionUpdated  = "updated"
)

// notYet is the value of a scrape-time age before its first observation.
const notYet = -1

// Metrics holds the watcher's collectors. It implements watcher.Observer;
// every method is cheap and safe for concurrent use.
type Metrics struct {
	now func() time.Time
	lag func() (time.Duration, bool)

	changes       *prometheus.CounterVec
	events        *prometheus.CounterVec
	documents     *prometheus.CounterVec
	applyDuration *prometheus.HistogramVec
	endToEnd      *prometheus.HistogramVec
	streamUp      prometheus.Gauge

	// Unix nanoseconds; 0 means "never observed".
	lastSave atomic.Int64
	lastBeat atomic.Int64
}

var _ watcher.Observer = (*Metrics)(nil)

// Option configures New.
type Option func(*Metrics)

// WithLag is where watcher_lag_seconds comes from: the age of the oldest
// change not yet applied (0 when nothing is pending); ok is false while no
// stream is followed (a standby), shown as -1. Without it: -1.
func WithLag(lag func() (time.Duration, bool)) Option {
	return func(m *Metrics) { m.lag = lag }
}

// WithClock replaces the wall clock (tests).
func WithClock(c clock.Clock) Option {
	return func(m *Metrics) { m.now = clock.Or(c).Now }
}

// New creates the collectors and registers them on reg. It fails when reg is
// nil or a collector is already registered there.
func New(reg prometheus.Registerer, opts ...Option) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil registerer")
	}
	m := &Metrics{now: time.Now}
	for _, o := range opts {
		o(m)
	}
	m.changes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "changes_received_total",
		Help:      "Raw change events received from the change stream, by operationType.",
	}, []string{"operation_type"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "events_applied_total",
		Help:      "Derived events applied to Firestore, by event type and outcome (ok|error).",
	}, []string{"type", "outcome"})
	m.documents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "firestore_documents_total",
		Help:      "Firestore asset documents changed, by collection and action (deleted|archived|updated).",
	}, []string{"collection", "action"})
	m.applyDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace,
		Name:      "apply_duration_seconds",
		Help:      "Time to apply one derived event to Firestore, by event type.",
		Buckets:   []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
	}, []string{"type"})
	m.endToEnd = newEndToEnd()
	m.streamUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "stream_up",
		Help:      "1 while the change stream is open, 0 otherwise.",
	})
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "lag_seconds",
		Help:      "Age of the oldest change read from the stream and not yet applied (now minus its cluster time); 0 when nothing is pending, -1 while no stream is followed.",
	}, m.lagSeconds)
	checkpointAge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "checkpoint_age_seconds",
		Help:      "Seconds since the last checkpoint save; -1 before the first save.",
	}, func() float64 { return m.age(&m.lastSave) })
	lastBeat := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "last_heartbeat_timestamp_seconds",
		Help:      "Unix time of the main loop's last heartbeat; 0 before the first one.",
	}, func() float64 { return float64(m.lastBeat.Load()) / float64(time.Second) })

	for _, c := range []prometheus.Collector{
		m.changes, m.events, m.documents, m.applyDuration, m.endToEnd, m.streamUp,
		lag, checkpointAge, lastBeat,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	m.initSeries()
	return m, nil
}

// initSeries creates the known label combinations at zero, so that rates
// and alerts see them before the first increment.
func (m *Metrics) initSeries() {
	for _, op := range []string{"update", "replace", "delete"} { // the stream's $match never lets an insert through
		m.changes.WithLabelValues(op)
	}
	for _, k := range []event.Kind{event.ProjectDeleted, event.ProjectUpdated} {
		m.events.WithLabelValues(k.String(), OutcomeOK)
		m.events.WithLabelValues(k.String(), OutcomeError)
		m.applyDuration.WithLabelValues(k.String())
		m.endToEnd.WithLabelValues(k.String())
	}
}

// age returns the seconds between now and the stored time, or notYet.
func (m *Metrics) age(at *atomic.Int64) float64 {
	ns := at.Load()
	if ns == 0 {
		return notYet
	}
	return m.now().Sub(time.Unix(0, ns)).Seconds()
}

// storeMax keeps the newest of the stored time and t.
func storeMax(at *atomic.Int64, t time.Time) {
	ns := t.UnixNano()
	for {
		old := at.Load()
		if ns <= old || at.CompareAndSwap(old, ns) {
			return
		}
	}
}

// lagSeconds is the lag gauge's value.
func (m *Metrics) lagSeconds() float64 {
	if m.lag == nil {
		return notYet
	}
	d, ok := m.lag()
	if !ok {
		return notYet
	}
	return d.Seconds()
}
