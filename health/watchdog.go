package health

import (
	"context"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/internal/clock"
)

// ProgressFunc reports the work in flight and when work last progressed
// (an event completed, or work became pending after none was).
type ProgressFunc func() (inFlight int, last time.Time)

// Watchdog fails when work is pending and nothing has completed for the
// stall timeout (config health.stallTimeout): a daemon stuck on a hung call
// or a wedged worker then fails /healthz and the orchestrator restarts it.
// A quiet daemon (nothing pending) is never stalled.
type Watchdog struct {
	progress ProgressFunc
	timeout  time.Duration
	now      func() time.Time
}

// NewWatchdog returns a Watchdog over progress on clock c (nil: the wall
// clock). timeout <= 0 disables it (Check always passes).
func NewWatchdog(progress ProgressFunc, timeout time.Duration, c clock.Clock) *Watchdog {
	return &Watchdog{progress: progress, timeout: timeout, now: clock.Or(c).Now}
}

// Check is a health check: nil unless stalled.
func (w *Watchdog) Check(context.Context) error {
	if w.timeout <= 0 {
		return nil
	}
	n, last := w.progress()
	if n == 0 || last.IsZero() {
		return nil
	}
	if idle := w.now().Sub(last); idle > w.timeout {
		return fmt.Errorf("stalled: %d events pending and none completed for %s (health.stallTimeout %s)",
			n, idle.Round(time.Second), w.timeout)
	}
	return nil
}
