package reconcile

import (
	"context"
	"time"
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
// the start) until ctx ends. Failed runs are logged by Run and retried at
// the next tick. It returns when ctx ends.
func (r *Reconciler) Every(ctx context.Context, interval time.Duration, obs Observer) {
	r.log.Info().Dur("interval", interval).Msg("periodic reconciliation enabled")
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, _ = r.RunObserved(ctx, obs)
	}
}
