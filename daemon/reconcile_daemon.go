package daemon

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/projectwatcher/watcher/reconcile"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// daemonPagesPerSecond is the pace of the daemon's reconciliations (about
// 1,500 documents a second with 300-document pages): the event path keeps
// priority.
const daemonPagesPerSecond = 5

// Backoff between attempts of the repair after a lost history.
const (
	recoverInitialBackoff = 5 * time.Second
	recoverMaxBackoff     = time.Minute
)

// errReconcilingAfterLoss is the readiness check's answer while the repair
// after a lost history runs.
var errReconcilingAfterLoss = errors.New("reconciling after lost history")

// daemonReconcile runs the daemon's reconciliations: every
// reconcile.interval, and at once after a lost history.
type daemonReconcile struct {
	r          *reconcile.Reconciler
	m          *metrics.Reconcile
	interval   time.Duration
	log        zerolog.Logger
	recovering atomic.Bool

	// Background runs end when ctx is cancelled by stop.
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// newDaemonReconcile builds the reconciler (it repairs through the
// applier the events use) and registers its metrics on reg.
func newDaemonReconcile(cfg config.Config, d *Daemon, reg prometheus.Registerer, log zerolog.Logger) (*daemonReconcile, error) {
	r, err := d.NewReconciler(reconcile.Options{PagesPerSecond: daemonPagesPerSecond})
	if err != nil {
		return nil, err
	}
	m, err := metrics.NewReconcile(reg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &daemonReconcile{r: r, m: m, interval: cfg.Reconcile.Interval, log: log.With().Str("component", "main").Logger(),
		ctx: ctx, cancel: cancel}, nil
}

// historyLostHook is the watcher's repair after a lost history: a full
// reconciliation when resume.onHistoryLost is reconcile, else nil (a lost
// history stops the watcher).
func (d *daemonReconcile) historyLostHook(cfg config.Resume) func(context.Context) error {
	if cfg.OnHistoryLost != "reconcile" {
		return nil
	}
	return d.afterHistoryLost
}

// readiness fails while the repair after a lost history runs.
func (d *daemonReconcile) readiness(context.Context) error {
	if d.recovering.Load() {
		return errReconcilingAfterLoss
	}
	return nil
}

// afterHistoryLost runs a full reconciliation, retrying with backoff until
// one succeeds (nil) or ctx ends, or stop is called (an error).
func (d *daemonReconcile) afterHistoryLost(ctx context.Context) error {
	if !d.track() {
		return context.Canceled
	}
	defer d.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.ctx, cancel)()
	d.recovering.Store(true)
	defer d.recovering.Store(false)
	backoff := recoverInitialBackoff
	for {
		d.log.Warn().Msg("reconciling every collection after lost history; /readyz fails until it is done")
		_, err := d.r.RunObserved(ctx, d.m)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.Error().Err(err).Dur("retryIn", backoff).Msg("reconciliation after lost history failed; retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, recoverMaxBackoff)
	}
}

// start runs the periodic reconciliation in the background when
// reconcile.interval > 0, only while leading says so (the leader, once
// leases are on).
func (d *daemonReconcile) start(leading func() bool) {
	if d.interval <= 0 || !d.track() {
		return
	}
	go func() {
		defer d.wg.Done()
		d.r.Every(d.ctx, d.interval, d.m, leading)
	}()
}

// track counts a background run; false once stopped.
func (d *daemonReconcile) track() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return false
	}
	d.wg.Add(1)
	return true
}

// stop cancels the background reconciliations and waits for them.
func (d *daemonReconcile) stop() {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}
