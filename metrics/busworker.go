package metrics

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/projectwatcher/watcher/event"
)

// WorkerState is what the worker's gauges read at scrape time
// (bus.Worker).
type WorkerState interface {
	Progress() (inFlight int, last time.Time)
	OldestUnacked() time.Duration
}

// BusWorker exposes a worker of the event bus (watcher worker); it
// implements bus.WorkerObserver:
//
//	watcher_bus_messages_received_total{type}             counter: messages received (redeliveries included)
//	watcher_bus_redeliveries_total                        counter: messages received with a delivery attempt above 1
//	watcher_bus_messages_handled_total{type,outcome}      counter: outcome applied|dead_lettered|nacked
//	watcher_bus_apply_duration_seconds{type}              histogram: receipt until the answer
//	watcher_bus_worker_lag_seconds{type}                  histogram: apply time minus the event's MongoDB wall time
//	watcher_bus_messages_in_flight                        gauge: messages received, not yet acknowledged or nacked
//	watcher_bus_oldest_unacked_message_age_seconds        gauge: now minus the publish time of the oldest of them (0: none)
//	watcher_bus_receiving{subscription}                   gauge 0|1: a Receive runs on the subscription
//	watcher_bus_dead_letters_moved_total                  counter: messages of the dead-letter topic moved into the dead-letter collection
type BusWorker struct {
	received    *prometheus.CounterVec
	redelivered prometheus.Counter
	handled     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lag         *prometheus.HistogramVec
	receiving   *prometheus.GaugeVec
	moved       prometheus.Counter
	state       atomic.Pointer[WorkerState]
	now         func() time.Time
}

// NewBusWorker creates the collectors and registers them on reg; Track
// names the worker whose gauges it reads.
func NewBusWorker(reg prometheus.Registerer) (*BusWorker, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil registerer")
	}
	b := &BusWorker{now: time.Now}
	b.received = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "bus_messages_received_total",
		Help: "Event messages received from the subscription, by event type (unknown: not an event), redeliveries included."}, []string{"type"})
	b.redelivered = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "bus_redeliveries_total",
		Help: "Messages received again (Pub/Sub delivery attempt above 1): a worker crashed, stopped, or the message came back after an ack."})
	b.handled = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "bus_messages_handled_total",
		Help: "Event messages answered, by event type and outcome (applied|dead_lettered: acknowledged; nacked: they come again)."}, []string{"type", "outcome"})
	b.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "bus_apply_duration_seconds",
		Help:    "Time from receiving an event message to answering it, by event type.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}}, []string{"type"})
	b.lag = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "bus_worker_lag_seconds",
		Help:    "Apply time minus the event's MongoDB wall time, per event a worker applied, by event type.",
		Buckets: endToEndBuckets}, []string{"type"})
	b.receiving = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "bus_receiving",
		Help: "1 while the worker receives from the subscription, 0 otherwise."}, []string{"subscription"})
	b.moved = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "bus_dead_letters_moved_total",
		Help: "Messages Pub/Sub dead-lettered (bus.maxDeliveryAttempts deliveries without an answer) moved into the dead-letter collection."})
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "bus_messages_in_flight",
		Help: "Event messages this worker received and has not yet acknowledged or nacked."}, b.inFlight)
	oldest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "bus_oldest_unacked_message_age_seconds",
		Help: "Now minus the publish time of the oldest message this worker holds unanswered; 0 when it holds none."}, b.oldest)
	for _, c := range []prometheus.Collector{b.received, b.redelivered, b.handled, b.duration, b.lag, b.receiving, b.moved, inFlight, oldest} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	for _, k := range []event.Kind{event.ProjectDeleted, event.ProjectUpdated} {
		b.received.WithLabelValues(k.String())
		b.duration.WithLabelValues(k.String())
		b.lag.WithLabelValues(k.String())
		for _, o := range []string{"applied", "dead_lettered", "nacked"} {
			b.handled.WithLabelValues(k.String(), o)
		}
	}
	return b, nil
}

// Track makes the gauges read s.
func (b *BusWorker) Track(s WorkerState) { b.state.Store(&s) }

func (b *BusWorker) inFlight() float64 {
	if s := b.state.Load(); s != nil {
		n, _ := (*s).Progress()
		return float64(n)
	}
	return 0
}

func (b *BusWorker) oldest() float64 {
	if s := b.state.Load(); s != nil {
		return (*s).OldestUnacked().Seconds()
	}
	return 0
}

// MessageReceived counts a received message.
func (b *BusWorker) MessageReceived(kind string, _ time.Time, deliveryAttempt int) {
	b.received.WithLabelValues(kind).Inc()
	if deliveryAttempt > 1 {
		b.redelivered.Inc()
	}
}

// MessageDone records the answer to a message; an applied event's lag.
func (b *BusWorker) MessageDone(kind, outcome string, took time.Duration, eventTime time.Time) {
	b.handled.WithLabelValues(kind, outcome).Inc()
	b.duration.WithLabelValues(kind).Observe(took.Seconds())
	if outcome != "applied" || eventTime.IsZero() {
		return
	}
	if lag := b.now().Sub(eventTime); lag >= 0 {
		b.lag.WithLabelValues(kind).Observe(lag.Seconds())
	}
}

// Receiving sets watcher_bus_receiving for subscription.
func (b *BusWorker) Receiving(subscription string, on bool) {
	v := 0.0
	if on {
		v = 1
	}
	b.receiving.WithLabelValues(subscription).Set(v)
}

// DeadLetterMoved counts a message moved from the dead-letter topic.
func (b *BusWorker) DeadLetterMoved() { b.moved.Inc() }
