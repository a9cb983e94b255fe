package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/projectwatcher/watcher/event"
)

// counterCase drives the observer methods and names the series metric must
// then show, in the text exposition format.
type counterCase struct {
	name   string
	drive  func(m *Metrics)
	metric string
	want   string
}

func TestCountersFromObserverCalls(t *testing.T) {
	for _, tc := range counterCases {
		t.Run(tc.name, func(t *testing.T) {
			m, reg, _ := newTestMetrics(t)
			tc.drive(m)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tc.want), tc.metric); err != nil {
				t.Error(err)
			}
		})
	}
}

var counterCases = []counterCase{
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

// ageStep is observer calls of an ageCase, made with the clock at at.
type ageStep struct {
	at    time.Time // the clock when the step runs
	drive func(m *Metrics)
}

// ageCase makes observer calls and names the gauges a scrape at scrapeAt
// must then read.
type ageCase struct {
	name          string
	steps         []ageStep
	scrapeAt      time.Time
	wantLag       float64
	wantCkptAge   float64
	wantHeartbeat float64
}

func TestScrapeTimeAges(t *testing.T) {
	for _, tc := range ageCases {
		t.Run(tc.name, func(t *testing.T) { checkAges(t, tc) })
	}
}

// checkAges runs tc's steps and checks the gauges of a scrape at
// tc.scrapeAt.
func checkAges(t *testing.T, tc ageCase) {
	m, reg, clk := newTestMetrics(t)
	for _, s := range tc.steps {
		clk.Set(s.at)
		s.drive(m)
	}
	clk.Set(tc.scrapeAt)
	got := gaugeValues(t, reg)
	for name, want := range map[string]float64{
		"watcher_lag_seconds":                      tc.wantLag,
		"watcher_checkpoint_age_seconds":           tc.wantCkptAge,
		"watcher_last_heartbeat_timestamp_seconds": tc.wantHeartbeat,
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
}

var ageCases = []ageCase{
	{
		name:          "nothing observed yet",
		scrapeAt:      t0.Add(time.Hour),
		wantLag:       -1,
		wantCkptAge:   -1,
		wantHeartbeat: 0,
	},
	{
		name: "one applied event and one save",
		steps: []ageStep{{at: t0, drive: func(m *Metrics) {
			m.EventApplied(event.ProjectDeleted, "p", time.Millisecond, t0.Add(-3*time.Second), event.Report{}, nil)
			m.CheckpointSaved(t0.Add(-time.Second))
			m.Heartbeat()
		}}},
		scrapeAt:      t0.Add(10 * time.Second),
		wantLag:       -1, // applied events do not make the lag (WithLag does)
		wantCkptAge:   11,
		wantHeartbeat: float64(t0.Unix()),
	},
	{
		name: "applied and failed events leave the lag to WithLag",
		steps: []ageStep{{at: t0, drive: func(m *Metrics) {
			m.EventApplied(event.ProjectDeleted, "a", 0, t0.Add(-20*time.Second), event.Report{}, nil)
			m.EventApplied(event.ProjectDeleted, "b", 0, t0, event.Report{}, errors.New("boom"))
		}}},
		scrapeAt:    t0,
		wantLag:     -1,
		wantCkptAge: -1,
	},
	{
		name: "out of order events and saves keep the newest",
		steps: []ageStep{{at: t0, drive: func(m *Metrics) {
			m.EventApplied(event.ProjectUpdated, "a", 0, t0.Add(-2*time.Second), event.Report{}, nil)
			m.EventApplied(event.ProjectUpdated, "b", 0, t0.Add(-9*time.Second), event.Report{}, nil)
			m.CheckpointSaved(t0.Add(-4 * time.Second))
			m.CheckpointSaved(t0.Add(-7 * time.Second))
		}}},
		scrapeAt:    t0.Add(time.Second),
		wantLag:     -1,
		wantCkptAge: 5,
	},
	{
		name: "zero cluster time and zero save time are ignored",
		steps: []ageStep{{at: t0, drive: func(m *Metrics) {
			m.EventApplied(event.ProjectUpdated, "a", 0, time.Time{}, event.Report{}, nil)
			m.CheckpointSaved(time.Time{})
		}}},
		scrapeAt:    t0,
		wantLag:     -1,
		wantCkptAge: -1,
	},
	{
		name: "heartbeat records the clock at the call",
		steps: []ageStep{
			{at: t0, drive: func(m *Metrics) { m.Heartbeat() }},
			{at: t0.Add(90 * time.Second), drive: func(m *Metrics) { m.Heartbeat() }},
		},
		scrapeAt:      t0.Add(time.Hour),
		wantLag:       -1,
		wantCkptAge:   -1,
		wantHeartbeat: float64(t0.Add(90 * time.Second).Unix()),
	},
}

// TestLagIsWhatTheWatcherReports: watcher_lag_seconds is the age of the
// oldest pending change as the watcher reports it (0 when nothing is
// pending: an idle stream shows no lag), -1 while no stream is followed.
func TestLagIsWhatTheWatcherReports(t *testing.T) {
	for _, c := range []struct {
		lag  time.Duration
		ok   bool
		want float64
	}{{0, true, 0}, {2500 * time.Millisecond, true, 2.5}, {time.Hour, false, -1}} {
		reg := prometheus.NewRegistry()
		if _, err := New(reg, WithLag(func() (time.Duration, bool) { return c.lag, c.ok })); err != nil {
			t.Fatal(err)
		}
		if got := gaugeValues(t, reg)["watcher_lag_seconds"]; got != c.want {
			t.Errorf("lag %v (ok %v): gauge %v, want %v", c.lag, c.ok, got, c.want)
		}
	}
}
