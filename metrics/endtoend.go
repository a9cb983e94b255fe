package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// endToEndBuckets are fine below a second, where the latency target of the
// benchmark (p99 ≤ 250 ms) lies, and coarse above it.
var endToEndBuckets = []float64{
	.005, .01, .02, .03, .05, .075, .1, .125, .15, .2, .25, .3, .4, .5, .75,
	1, 1.5, 2, 3, 5, 10, 30, 60, 120, 300,
}

// newEndToEnd creates watcher_end_to_end_lag_seconds: for every successfully
// applied event, the time it was applied minus the event's time in MongoDB
// (its wall time, else its cluster time), by event type.
func newEndToEnd() *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace,
		Name:      "end_to_end_lag_seconds",
		Help:      "Apply time minus the event's MongoDB wall time, per successfully applied event, by event type.",
		Buckets:   endToEndBuckets,
	}, []string{"type"})
}

// observeEndToEnd records now minus eventTime; an unknown event time, or
// one ahead of this clock (skew), records nothing rather than a negative or
// made-up value.
func (m *Metrics) observeEndToEnd(typ string, eventTime time.Time) {
	if eventTime.IsZero() {
		return
	}
	lag := m.now().Sub(eventTime)
	if lag < 0 {
		return
	}
	m.endToEnd.WithLabelValues(typ).Observe(lag.Seconds())
}
