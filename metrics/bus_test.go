package metrics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/projectwatcher/watcher/event"
)

// codedErr reports a code of its own, as bus.PublishError does (its gRPC
// status says Unavailable whatever Pub/Sub answered).
type codedErr struct{ code codes.Code }

func (e codedErr) Error() string              { return "publish failed" }
func (e codedErr) Code() codes.Code           { return e.code }
func (e codedErr) GRPCStatus() *status.Status { return status.New(codes.Unavailable, "x") }

func TestBusPublishCountsAndCodes(t *testing.T) {
	reg := prometheus.NewRegistry()
	b, err := NewBusPublish(reg)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b.PublishStarted()
	}
	b.PublishDone(event.ProjectDeleted, 5*time.Millisecond, nil)
	b.PublishDone(event.ProjectUpdated, 0, codedErr{codes.NotFound})
	if got := testutil.ToFloat64(b.awaiting); got != 1 {
		t.Errorf("awaiting ack = %v, want 1 (three started, two answered)", got)
	}
	b.PublishDone(event.ProjectUpdated, 0, fmt.Errorf("wrapped: %w", context.DeadlineExceeded))
	for code, want := range map[string]float64{"NotFound": 1, "DeadlineExceeded": 1, "Unavailable": 0} {
		if got := testutil.ToFloat64(b.failures.WithLabelValues(code)); got != want {
			t.Errorf("failures{code=%s} = %v, want %v", code, got, want)
		}
	}
	if got := testutil.ToFloat64(b.published.WithLabelValues("ProjectDeleted")); got != 1 {
		t.Errorf("published = %v", got)
	}
	if n := testutil.CollectAndCount(b.duration); n != 1 {
		t.Errorf("duration series %d", n)
	}
}

type fakeWorkerState struct {
	held   int
	oldest time.Duration
}

func (f fakeWorkerState) Progress() (int, time.Time)   { return f.held, time.Time{} }
func (f fakeWorkerState) OldestUnacked() time.Duration { return f.oldest }

func TestBusWorkerLagAndGauges(t *testing.T) {
	reg := prometheus.NewRegistry()
	b, err := NewBusWorker(reg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	b.now = func() time.Time { return now }
	b.Track(fakeWorkerState{held: 3, oldest: 90 * time.Second})
	b.MessageReceived("ProjectDeleted", now, 1)
	b.MessageReceived("ProjectDeleted", now, 2)
	b.MessageDone("ProjectDeleted", "applied", time.Second, now.Add(-4*time.Second))
	b.MessageDone("ProjectDeleted", "nacked", time.Second, now.Add(-4*time.Second)) // no lag: not applied
	b.MessageDone("ProjectUpdated", "applied", time.Second, now.Add(time.Second))   // clock skew: no lag
	b.Receiving("subs", true)
	b.DeadLetterMoved()
	checks := map[string]float64{
		"redeliveries": testutil.ToFloat64(b.redelivered),
		"received":     testutil.ToFloat64(b.received.WithLabelValues("ProjectDeleted")),
		"nacked":       testutil.ToFloat64(b.handled.WithLabelValues("ProjectDeleted", "nacked")),
		"receiving":    testutil.ToFloat64(b.receiving.WithLabelValues("subs")),
		"moved":        testutil.ToFloat64(b.moved),
	}
	for name, want := range map[string]float64{"redeliveries": 1, "received": 2, "nacked": 1, "receiving": 1, "moved": 1} {
		if checks[name] != want {
			t.Errorf("%s = %v, want %v", name, checks[name], want)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "watcher_bus_messages_in_flight", "watcher_bus_oldest_unacked_message_age_seconds":
				got[mf.GetName()] = m.GetGauge().GetValue()
			case "watcher_bus_worker_lag_seconds":
				if m.GetLabel()[0].GetValue() == "ProjectDeleted" {
					got["lag count"] = float64(m.GetHistogram().GetSampleCount())
					got["lag sum"] = m.GetHistogram().GetSampleSum()
				} else {
					got["skewed lag count"] = float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	want := map[string]float64{"watcher_bus_messages_in_flight": 3, "watcher_bus_oldest_unacked_message_age_seconds": 90,
		"lag count": 1, "lag sum": 4, "skewed lag count": 0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, err := NewBusWorker(nil); err == nil {
		t.Error("nil registerer accepted")
	}
}
