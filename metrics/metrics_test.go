package metrics

import (
	"errors"
	"strings"
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

func TestCountersFromObserverCalls(t *testing.T) {
	tests := []struct {
		name   string
		drive  func(m *Metrics)
		metric string
		want   string
	}{
		{
			name: "changes by operation type",
			drive: func(m *Metrics) {
				m.ChangeReceived("delete")
				m.ChangeReceived("update")
				m.ChangeReceived("update")
				m.ChangeReceived("drop")
			},
			metric: "watcher_changes_received_total",
			want: `
# HELP watcher_changes_received_total Raw change events received from the change stream, by operationType.
# TYPE watcher_changes_received_total counter
watcher_changes_received_total{operation_type="delete"} 1
watcher_changes_received_total{operation_type="drop"} 1
watcher_changes_received_total{operation_type="replace"} 0
watcher_changes_received_total{operation_type="update"} 2
`,
		},
		{
			name: "events by type and outcome",
			drive: func(m *Metrics) {
				m.EventApplied(event.ProjectDeleted, "p1", time.Second, t0, event.Report{}, nil)
				m.EventApplied(event.ProjectDeleted, "p2", time.Second, t0, event.Report{}, errors.New("boom"))
				m.EventApplied(event.ProjectUpdated, "p3", time.Second, t0, event.Report{}, nil)
				m.EventApplied(event.ProjectUpdated, "p3", time.Second, t0, event.Report{}, nil)
			},
			metric: "watcher_events_applied_total",
			want: `
# HELP watcher_events_applied_total Derived events applied to Firestore, by event type and outcome (ok|error).
# TYPE watcher_events_applied_total counter
watcher_events_applied_total{outcome="error",type="ProjectDeleted"} 1
watcher_events_applied_total{outcome="error",type="ProjectUpdated"} 0
watcher_events_applied_total{outcome="ok",type="ProjectDeleted"} 1
watcher_events_applied_total{outcome="ok",type="ProjectUpdated"} 2
`,
		},
		{
			name: "documents by collection and action, failed partial reports included",
			drive: func(m *Metrics) {
				m.EventApplied(event.ProjectDeleted, "p1", time.Second, t0, event.Report{Collections: []event.CollectionReport{
					{Collection: "storyboards", Matched: 3, Deleted: 5},
					{Collection: "aiAnalyses", Matched: 2, Archived: 2},
					{Collection: "generatedMedia"},
				}}, nil)
				m.EventApplied(event.ProjectUpdated, "p2", time.Second, t0, event.Report{Collections: []event.CollectionReport{
					{Collection: "storyboards", Matched: 4, Updated: 4},
				}}, nil)
				m.EventApplied(event.ProjectDeleted, "p3", time.Second, t0, event.Report{Collections: []event.CollectionReport{
					{Collection: "storyboards", Matched: 9, Deleted: 1},
				}}, errors.New("partial"))
			},
			metric: "watcher_firestore_documents_total",
			want: `
# HELP watcher_firestore_documents_total Firestore asset documents changed, by collection and action (deleted|archived|updated).
# TYPE watcher_firestore_documents_total counter
watcher_firestore_documents_total{action="archived",collection="aiAnalyses"} 2
watcher_firestore_documents_total{action="deleted",collection="storyboards"} 6
watcher_firestore_documents_total{action="updated",collection="storyboards"} 4
`,
		},
		{
			name:   "stream up starts at 0",
			drive:  func(*Metrics) {},
			metric: "watcher_stream_up",
			want: `
# HELP watcher_stream_up 1 while the change stream is open, 0 otherwise.
# TYPE watcher_stream_up gauge
watcher_stream_up 0
`,
		},
		{
			name:   "stream up after open",
			drive:  func(m *Metrics) { m.StreamOpen(true) },
			metric: "watcher_stream_up",
			want: `
# HELP watcher_stream_up 1 while the change stream is open, 0 otherwise.
# TYPE watcher_stream_up gauge
watcher_stream_up 1
`,
		},
		{
			name:   "stream down after open then close",
			drive:  func(m *Metrics) { m.StreamOpen(true); m.StreamOpen(false) },
			metric: "watcher_stream_up",
			want: `
# HELP watcher_stream_up 1 while the change stream is open, 0 otherwise.
# TYPE watcher_stream_up gauge
watcher_stream_up 0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg, _ := newTestMetrics(t)
			tt.drive(m)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tt.want), tt.metric); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestScrapeTimeAges(t *testing.T) {
	type step struct {
		at    time.Time // the clock when the step runs
		drive func(m *Metrics)
	}
	tests := []struct {
		name          string
		steps         []step
		scrapeAt      time.Time
		wantLag       float64
		wantCkptAge   float64
		wantHeartbeat float64
	}{
		{
			name:          "nothing observed yet",
			scrapeAt:      t0.Add(time.Hour),
			wantLag:       -1,
			wantCkptAge:   -1,
			wantHeartbeat: 0,
		},
		{
			name: "one applied event and one save",
			steps: []step{{at: t0, drive: func(m *Metrics) {
				m.EventApplied(event.ProjectDeleted, "p", time.Millisecond, t0.Add(-3*time.Second), event.Report{}, nil)
				m.CheckpointSaved(t0.Add(-time.Second))
				m.Heartbeat()
			}}},
			scrapeAt:      t0.Add(10 * time.Second),
			wantLag:       13,
			wantCkptAge:   11,
			wantHeartbeat: float64(t0.Unix()),
		},
		{
			name: "failed event does not move the lag",
			steps: []step{{at: t0, drive: func(m *Metrics) {
				m.EventApplied(event.ProjectDeleted, "a", 0, t0.Add(-20*time.Second), event.Report{}, nil)
				m.EventApplied(event.ProjectDeleted, "b", 0, t0, event.Report{}, errors.New("boom"))
			}}},
			scrapeAt:    t0,
			wantLag:     20,
			wantCkptAge: -1,
		},
		{
			name: "out of order events and saves keep the newest",
			steps: []step{{at: t0, drive: func(m *Metrics) {
				m.EventApplied(event.ProjectUpdated, "a", 0, t0.Add(-2*time.Second), event.Report{}, nil)
				m.EventApplied(event.ProjectUpdated, "b", 0, t0.Add(-9*time.Second), event.Report{}, nil)
				m.CheckpointSaved(t0.Add(-4 * time.Second))
				m.CheckpointSaved(t0.Add(-7 * time.Second))
			}}},
			scrapeAt:    t0.Add(time.Second),
			wantLag:     3,
			wantCkptAge: 5,
		},
		{
			name: "zero cluster time and zero save time are ignored",
			steps: []step{{at: t0, drive: func(m *Metrics) {
				m.EventApplied(event.ProjectUpdated, "a", 0, time.Time{}, event.Report{}, nil)
				m.CheckpointSaved(time.Time{})
			}}},
			scrapeAt:    t0,
			wantLag:     -1,
			wantCkptAge: -1,
		},
		{
			name: "heartbeat records the clock at the call",
			steps: []step{
				{at: t0, drive: func(m *Metrics) { m.Heartbeat() }},
				{at: t0.Add(90 * time.Second), drive: func(m *Metrics) { m.Heartbeat() }},
			},
			scrapeAt:      t0.Add(time.Hour),
			wantLag:       -1,
			wantCkptAge:   -1,
			wantHeartbeat: float64(t0.Add(90 * time.Second).Unix()),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg, clk := newTestMetrics(t)
			for _, s := range tt.steps {
				clk.Set(s.at)
				s.drive(m)
			}
			clk.Set(tt.scrapeAt)
			got := gaugeValues(t, reg)
			for name, want := range map[string]float64{
				"watcher_lag_seconds":                      tt.wantLag,
				"watcher_checkpoint_age_seconds":           tt.wantCkptAge,
				"watcher_last_heartbeat_timestamp_seconds": tt.wantHeartbeat,
			} {
				v, ok := got[name]
				if !ok {
					t.Errorf("%s not exposed", name)
					continue
				}
				if v != want {
					t.Errorf("%s = %v, want %v", name, v, want)
				}
			}
		})
	}
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
	// The clock stays at t0: the newest cluster time is t0+(perG-1)s.
	if want := -float64(perG - 1); g["watcher_lag_seconds"] != want {
		t.Errorf("lag = %v, want %v", g["watcher_lag_seconds"], want)
	}
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
