package metrics

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/projectwatcher/watcher/reconcile"
)

func TestReconcileMetrics(t *testing.T) {
	started := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	runs := []struct {
		totals reconcile.CollectionSummary
		took   time.Duration
		err    error
	}{
		{reconcile.CollectionSummary{Orphans: 3, Drifted: 2, RepairedOrphans: 3, RepairedDrift: 1, Invalid: 1, Skipped: 2}, 2 * time.Second, nil},
		{reconcile.CollectionSummary{Orphans: 1}, 500 * time.Millisecond, errors.New("lookup failed")},
	}
	reg := prometheus.NewRegistry()
	m, err := NewReconcile(reg)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range runs {
		m.ReconcileFinished(reconcile.Summary{Started: started.Add(time.Duration(i) * time.Hour), Duration: r.took, Totals: r.totals}, r.err)
	}
	tests := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.orphansFound, 4},
		{m.orphansRepaired, 3},
		{m.driftFound, 2},
		{m.driftRepaired, 1},
		{m.invalid, 1},
		{m.skipped, 2},
		{m.runs.WithLabelValues(OutcomeOK), 1},
		{m.runs.WithLabelValues(OutcomeError), 1},
		{m.lastRun, float64(started.Add(time.Hour).Unix())},
		{m.lastDuration, 0.5},
	}
	for i, tt := range tests {
		if got := testutil.ToFloat64(tt.c); got != tt.want {
			t.Errorf("metric %d = %v, want %v", i, got, tt.want)
		}
	}
	if _, err := NewReconcile(reg); err == nil {
		t.Error("registering twice succeeded")
	}
}
