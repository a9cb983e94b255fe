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
// the start) until ctx ends; a run in progress when it ends stops (Run logs
// why: context.Cause). Failed runs are logged by Run and retried at the
// next tick. It returns when ctx ends. The daemon binds ctx to the lease
// term: a replica reconciles only while it leads.
func (r *Reconciler) Every(ctx context.Context, interval time.Duration, obs Observer) {
	r.log.Info().Int64("intervalMs", interval.Milliseconds()).Msg("periodic reconciliation enabled")
	clock.Every(ctx, interval, func(ctx context.Context) {
		_, _ = r.RunObserved(ctx, obs)
	})
}
