package metrics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/projectwatcher/watcher/event"
)

// BusPublish exposes the leader's side of the event bus (bus.mode
// publish); it implements bus.PublishObserver:
//
//	watcher_bus_published_total{type}           counter: events Pub/Sub acknowledged
//	watcher_bus_publish_failures_total{code}    counter: publishes that failed, by gRPC code (the event is published again)
//	watcher_bus_publish_duration_seconds        histogram: publish until Pub/Sub's acknowledgement
//	watcher_bus_publishes_awaiting_ack          gauge: messages handed to the client, not yet acknowledged
type BusPublish struct {
	published *prometheus.CounterVec
	failures  *prometheus.CounterVec
	duration  prometheus.Histogram
	awaiting  prometheus.Gauge
}

// NewBusPublish creates the collectors and registers them on reg.
func NewBusPublish(reg prometheus.Registerer) (*BusPublish, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil registerer")
	}
	b := &BusPublish{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "bus_published_total",
			Help: "Events published to the Pub/Sub topic and acknowledged by Pub/Sub, by event type.",
		}, []string{"type"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "bus_publish_failures_total",
			Help: "Publishes Pub/Sub did not acknowledge, by gRPC code; the event is published again and the checkpoint waits.",
		}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "bus_publish_duration_seconds",
			Help:    "Time from handing an event to the Pub/Sub client until Pub/Sub acknowledged it.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		awaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "bus_publishes_awaiting_ack",
			Help: "Events handed to the Pub/Sub client and not yet acknowledged.",
		}),
	}
	for _, c := range []prometheus.Collector{b.published, b.failures, b.duration, b.awaiting} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	for _, k := range []event.Kind{event.ProjectDeleted, event.ProjectUpdated} {
		b.published.WithLabelValues(k.String())
	}
	b.failures.WithLabelValues(codes.Unavailable.String())
	return b, nil
}

// PublishStarted counts a message handed to the client.
func (b *BusPublish) PublishStarted() { b.awaiting.Inc() }

// PublishDone records the answer to a publish.
func (b *BusPublish) PublishDone(kind event.Kind, took time.Duration, err error) {
	b.awaiting.Dec()
	if err != nil {
		b.failures.WithLabelValues(errorCode(err).String()).Inc()
		return
	}
	b.published.WithLabelValues(kind.String()).Inc()
	b.duration.Observe(took.Seconds())
}

// errorCode is the gRPC code of a failed call: the code an error reports
// of itself (Code()), else its status, Canceled and DeadlineExceeded for
// the context's errors.
func errorCode(err error) codes.Code {
	var c interface{ Code() codes.Code }
	switch {
	case errors.As(err, &c):
		return c.Code()
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	}
	return status.Code(err)
}
