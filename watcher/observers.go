package watcher

import (
	"time"

	"github.com/projectwatcher/watcher/event"
)

// NopObserver observes nothing. Embed it to implement only the Observer
// methods a type needs.
type NopObserver struct{}

// Heartbeat implements Observer.
func (NopObserver) Heartbeat() {}

// StreamOpen implements Observer.
func (NopObserver) StreamOpen(bool) {}

// ChangeReceived implements Observer.
func (NopObserver) ChangeReceived(string) {}

// CheckpointSaved implements Observer.
func (NopObserver) CheckpointSaved(time.Time) {}

// EventApplied implements Observer.
func (NopObserver) EventApplied(event.Kind, string, time.Duration, time.Time, event.Report, error) {}

// Observers fans every observation out to each of its observers, in order.
type Observers []Observer

// Heartbeat implements Observer.
func (obs Observers) Heartbeat() {
	for _, o := range obs {
		o.Heartbeat()
	}
}

// StreamOpen implements Observer.
func (obs Observers) StreamOpen(open bool) {
	for _, o := range obs {
		o.StreamOpen(open)
	}
}

// ChangeReceived implements Observer.
func (obs Observers) ChangeReceived(op string) {
	for _, o := range obs {
		o.ChangeReceived(op)
	}
}

// CheckpointSaved implements Observer.
func (obs Observers) CheckpointSaved(at time.Time) {
	for _, o := range obs {
		o.CheckpointSaved(at)
	}
}

// EventApplied implements Observer.
func (obs Observers) EventApplied(kind event.Kind, projectID string, took time.Duration, clusterTime time.Time, report event.Report, err error) {
	for _, o := range obs {
		o.EventApplied(kind, projectID, took, clusterTime, report, err)
	}
}

// HeartbeatFunc adapts a liveness beat (such as health.Server.Beat) to an
// Observer that only forwards heartbeats.
func HeartbeatFunc(beat func()) Observer { return heartbeat{beat: beat} }

type heartbeat struct {
	NopObserver
	beat func()
}

func (h heartbeat) Heartbeat() { h.beat() }
