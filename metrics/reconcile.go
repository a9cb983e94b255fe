package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/projectwatcher/watcher/reconcile"
)

// Reconcile holds the reconciliation collectors. It implements
// reconcile.Observer.
type Reconcile struct {
	orphansFound    prometheus.Counter
	orphansRepaired prometheus.Counter
	driftFound      prometheus.Counter
	driftRepaired   prometheus.Counter
	invalid         prometheus.Counter
	skipped         prometheus.Counter
	runs            *prometheus.CounterVec
	lastRun         prometheus.Gauge
	lastDuration    prometheus.Gauge
}

var _ reconcile.Observer = (*Reconcile)(nil)

// NewReconcile creates the reconciliation collectors and registers them on reg.
func NewReconcile(reg prometheus.Registerer) (*Reconcile, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil registerer")
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: "reconcile", Name: name, Help: help})
	}
	m := &Reconcile{
		orphansFound:    counter("orphans_found_total", "Asset documents of projects that no longer exist, found by reconciliation."),
		orphansRepaired: counter("orphans_repaired_total", "Orphaned asset documents deleted or archived by reconciliation."),
		driftFound:      counter("drift_found_total", "Asset documents whose copied fields differed from MongoDB, found by reconciliation."),
		driftRepaired:   counter("drift_repaired_total", "Asset documents whose copied fields reconciliation rewrote."),
		invalid:         counter("invalid_ids_total", "Asset documents with an empty or non-string project id, found by reconciliation."),
		skipped:         counter("skipped_repairs_total", "Repairs reconciliation did not make because the project exists (again, or in the other form of its id: project-exists)."),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "reconcile", Name: "runs_total",
			Help: "Finished reconciliation runs, by outcome (ok|error).",
		}, []string{"outcome"}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "reconcile", Name: "last_run_timestamp_seconds",
			Help: "Unix time the last finished reconciliation started; 0 before the first one.",
		}),
		lastDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "reconcile", Name: "last_run_duration_seconds",
			Help: "How long the last finished reconciliation took.",
		}),
	}
	for _, c := range []prometheus.Collector{
		m.orphansFound, m.orphansRepaired, m.driftFound, m.driftRepaired, m.invalid, m.skipped,
		m.runs, m.lastRun, m.lastDuration,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register reconcile collector: %w", err)
		}
	}
	m.runs.WithLabelValues(OutcomeOK)
	m.runs.WithLabelValues(OutcomeError)
	return m, nil
}

// ReconcileFinished records one finished run.
func (m *Reconcile) ReconcileFinished(s reconcile.Summary, err error) {
	t := s.Totals
	m.orphansFound.Add(float64(t.Orphans))
	m.orphansRepaired.Add(float64(t.RepairedOrphans))
	m.driftFound.Add(float64(t.Drifted))
	m.driftRepaired.Add(float64(t.RepairedDrift))
	m.invalid.Add(float64(t.Invalid))
	m.skipped.Add(float64(t.Skipped))
	outcome := OutcomeOK
	if err != nil {
		outcome = OutcomeError
	}
	m.runs.WithLabelValues(outcome).Inc()
	m.lastRun.Set(float64(s.Started.UnixNano()) / 1e9)
	m.lastDuration.Set(s.Duration.Seconds())
}
