package metrics

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/clocktest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestMetrics(t *testing.T) (*Metrics, *prometheus.Registry, *clocktest.Clock) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	clk := clocktest.New(t0)
	m, err := New(reg, WithClock(clk))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, reg, clk
}

// gaugeValues gathers reg and returns the value of every unlabelled gauge.
func gaugeValues(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			if g := mt.GetGauge(); g != nil && len(mt.GetLabel()) == 0 {
				out[mf.GetName()] = g.GetValue()
			}
		}
	}
	return out
}

func TestApplyDurationHistogram(t *testing.T) {
	tests := []struct {
		name      string
		durations map[event.Kind][]time.Duration
	}{
		{name: "no events", durations: nil},
		{name: "deletes only", durations: map[event.Kind][]time.Duration{
			event.ProjectDeleted: {20 * time.Millisecond, 3 * time.Second},
		}},
		{name: "both kinds", durations: map[event.Kind][]time.Duration{
			event.ProjectDeleted: {time.Second},
			event.ProjectUpdated: {100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg, _ := newTestMetrics(t)
			for k, ds := range tt.durations {
				for _, d := range ds {
					m.EventApplied(k, "p", d, t0, event.Report{}, nil)
				}
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatalf("gather: %v", err)
			}
			seen := map[string]bool{}
			for _, mf := range mfs {
				if mf.GetName() != "watcher_apply_duration_seconds" {
					continue
				}
				for _, mt := range mf.GetMetric() {
					typ := mt.GetLabel()[0].GetValue()
					seen[typ] = true
					var wantSum float64
					for _, d := range tt.durations[kindByName(t, typ)] {
						wantSum += d.Seconds()
					}
					wantCount := uint64(len(tt.durations[kindByName(t, typ)]))
					h := mt.GetHistogram()
					if h.GetSampleCount() != wantCount {
						t.Errorf("%s count = %d, want %d", typ, h.GetSampleCount(), wantCount)
					}
					if diff := h.GetSampleSum() - wantSum; diff > 1e-9 || diff < -1e-9 {
						t.Errorf("%s sum = %v, want %v", typ, h.GetSampleSum(), wantSum)
					}
				}
			}
			for _, k := range []event.Kind{event.ProjectDeleted, event.ProjectUpdated} {
				if !seen[k.String()] {
					t.Errorf("no histogram series for type %s", k)
				}
			}
		})
	}
}

func kindByName(t *testing.T, name string) event.Kind {
	t.Helper()
	for _, k := range []event.Kind{event.ProjectDeleted, event.ProjectUpdated} {
		if k.String() == name {
			return k
		}
	}
	t.Fatalf("unexpected type label %q", name)
	return 0
}

func TestNewRegistration(t *testing.T) {
	tests := []struct {
		name    string
		reg     func() prometheus.Registerer
		wantErr bool
	}{
		{name: "fresh registry", reg: func() prometheus.Registerer { return prometheus.NewRegistry() }},
		{name: "nil registerer", reg: func() prometheus.Registerer { return nil }, wantErr: true},
		{name: "already registered", reg: func() prometheus.Registerer {
			r := prometheus.NewRegistry()
			if _, err := New(r); err != nil {
				t.Fatalf("first New: %v", err)
			}
			return r
		}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.reg())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && m == nil {
				t.Fatal("nil Metrics without error")
			}
		})
	}
}

func TestConcurrentObserverCalls(t *testing.T) {
	m, reg, _ := newTestMetrics(t)
	const goroutines, perG = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				m.Heartbeat()
				m.ChangeReceived("update")
				m.CheckpointSaved(t0.Add(time.Duration(g*perG+i) * time.Millisecond))
				m.EventApplied(event.ProjectUpdated, "p", time.Millisecond, t0.Add(time.Duration(i)*time.Second), event.Report{}, nil)
			}
		}()
	}
	wg.Wait()
	if got := testutil.ToFloat64(m.changes.WithLabelValues("update")); got != goroutines*perG {
		t.Errorf("changes = %v, want %d", got, goroutines*perG)
	}
	g := gaugeValues(t, reg)
	newestSave := t0.Add(time.Duration(goroutines*perG-1) * time.Millisecond)
	if want := t0.Sub(newestSave).Seconds(); g["watcher_checkpoint_age_seconds"] != want {
		t.Errorf("checkpoint age = %v, want %v", g["watcher_checkpoint_age_seconds"], want)
	}
}

func TestRegisterRuntime(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := RegisterRuntime(reg); err != nil {
		t.Fatalf("RegisterRuntime: %v", err)
	}
	names := map[string]bool{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{"go_goroutines", "process_start_time_seconds"} {
		if !names[want] {
			t.Errorf("%s not exposed", want)
		}
	}
	if err := RegisterRuntime(reg); err == nil {
		t.Error("second RegisterRuntime on the same registry: want error")
	}
}
