package metrics

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/projectwatcher/watcher/event"
)

func TestEndToEndLag(t *testing.T) {
	tests := []struct {
		name      string
		eventTime time.Time
		err       error
		wantCount int
		wantSum   float64
	}{
		{name: "applied 120ms after the event", eventTime: t0.Add(-120 * time.Millisecond), wantCount: 1, wantSum: 0.12},
		{name: "applied 3s after the event", eventTime: t0.Add(-3 * time.Second), wantCount: 1, wantSum: 3},
		{name: "failed event", eventTime: t0.Add(-time.Second), err: errors.New("boom"), wantCount: 0},
		{name: "unknown event time", eventTime: time.Time{}, wantCount: 0},
		{name: "event time ahead of this clock", eventTime: t0.Add(time.Second), wantCount: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, reg, _ := newTestMetrics(t)
			m.EventApplied(event.ProjectDeleted, "p1", time.Millisecond, tc.eventTime, event.Report{}, tc.err)
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, mf := range mfs {
				if mf.GetName() != "watcher_end_to_end_lag_seconds" {
					continue
				}
				for _, mt := range mf.GetMetric() {
					if mt.GetLabel()[0].GetValue() != event.ProjectDeleted.String() {
						continue
					}
					found = true
					h := mt.GetHistogram()
					if int(h.GetSampleCount()) != tc.wantCount {
						t.Errorf("count %d, want %d", h.GetSampleCount(), tc.wantCount)
					}
					if d := h.GetSampleSum() - tc.wantSum; d > 1e-9 || d < -1e-9 {
						t.Errorf("sum %v, want %v", h.GetSampleSum(), tc.wantSum)
					}
				}
			}
			if !found {
				t.Fatal("no watcher_end_to_end_lag_seconds{type=ProjectDeleted} series")
			}
			if n := testutil.CollectAndCount(m.endToEnd); n != 2 {
				t.Errorf("%d end-to-end series, want one per event type (2)", n)
			}
		})
	}
}
