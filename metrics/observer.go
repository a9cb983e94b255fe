package metrics

import (
	"time"

	"github.com/projectwatcher/watcher/event"
)

// Heartbeat records the main loop's latest iteration.
func (m *Metrics) Heartbeat() {
	m.lastBeat.Store(m.now().UnixNano())
}

// StreamOpen sets watcher_stream_up.
func (m *Metrics) StreamOpen(open bool) {
	if open {
		m.streamUp.Set(1)
		return
	}
	m.streamUp.Set(0)
}

// ChangeReceived counts a raw change event by its operationType.
func (m *Metrics) ChangeReceived(op string) {
	m.changes.WithLabelValues(op).Inc()
}

// CheckpointSaved records a checkpoint save; the newest save wins.
func (m *Metrics) CheckpointSaved(at time.Time) {
	if at.IsZero() {
		return
	}
	storeMax(&m.lastSave, at)
}

// EventApplied counts one applied event, its duration and the documents its
// report lists; a successful one is observed in the end-to-end lag. The
// documents of a failed event's partial report are counted, since they were
// written. projectID is not a label (unbounded cardinality).
func (m *Metrics) EventApplied(kind event.Kind, _ string, took time.Duration, clusterTime time.Time, report event.Report, err error) {
	typ := kind.String()
	outcome := OutcomeOK
	if err != nil {
		outcome = OutcomeError
	}
	m.events.WithLabelValues(typ, outcome).Inc()
	m.applyDuration.WithLabelValues(typ).Observe(took.Seconds())
	for _, c := range report.Collections {
		m.addDocs(c.Collection, ActionDeleted, c.Deleted)
		m.addDocs(c.Collection, ActionArchived, c.Archived)
		m.addDocs(c.Collection, ActionUpdated, c.Updated)
	}
	if err == nil && !clusterTime.IsZero() {
		m.observeEndToEnd(typ, clusterTime)
	}
}

func (m *Metrics) addDocs(collection, action string, n int) {
	if n <= 0 {
		return
	}
	m.documents.WithLabelValues(collection, action).Add(float64(n))
}
