package reconcile

import (
	"context"
	"time"

	"github.com/projectwatcher/watcher/internal/clock"
)

// Observer is told about every finished run (metrics). It must be cheap and
// safe for concurrent use.
type Observer interface {
	ReconcileFinished(s Summary, err error)
}

// RunObserved runs one reconciliation and tells obs (when non-nil) about it.
func (r *Reconciler) RunObserved(ctx context.Context, obs Observer) (Summary, error) {
	s, err := r.Run(ctx)
	if obs != nil && ctx.Err() == nil {
		obs.ReconcileFinished(s, err)
	}
	return s, err
}

// Every runs a reconciliation every interval (the first one interval after
// the start) until ctx ends, skipping the ticks when active (if non-nil)
// returns false (a standby replica). Failed runs are logged by Run and
// retried at the next tick. It returns when ctx ends.
func (r *Reconciler) Every(ctx context.Context, interval time.Duration, obs Observer, active func() bool) {
	r.log.Info().Int64("intervalMs", interval.Milliseconds()).Msg("periodic reconciliation enabled")
	clock.Every(ctx, interval, func(ctx context.Context) {
		if active != nil && !active() {
			r.log.Debug().Msg("not the leader; periodic reconciliation skipped")
			return
		}
		_, _ = r.RunObserved(ctx, obs)
	})
}
