package daemon

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/projectwatcher/watcher/reconcile"
	"github.com/projectwatcher/watcher/watcher"
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
// reconcile.interval during each run of the watcher (periodic, bound to the
// run and so to the lease term), and at once after a lost history. Their
// repairs go through the running watcher (runningWatcher): in the project's
// order with the stream's events, prepared right before they are applied,
// never holding back the checkpoint.
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

// newDaemonReconcile builds the reconciler (it repairs through the watcher
// st runs) and registers its metrics on reg.
func newDaemonReconcile(cfg config.Config, d *Daemon, st *state, reg prometheus.Registerer, log zerolog.Logger) (*daemonReconcile, error) {
	r, err := reconcile.New(d.Firestore(), d.Projects(), cfg.Sync, runningWatcher{st},
		d.log, reconcile.Options{PagesPerSecond: daemonPagesPerSecond, CallTimeout: cfg.Firestore.CallTimeout})
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

// runningWatcher applies a repair through the watcher that runs now (the
// leader's, in this lease term): watcher.Watcher.Apply, or
// watcher.ErrNotRunning between runs, which stops the reconciliation.
type runningWatcher struct{ st *state }

func (rw runningWatcher) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	w := rw.st.current()
	if w == nil {
		return event.Report{}, watcher.ErrNotRunning
	}
	return w.Apply(ctx, ev)
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
		d.log.Error().Err(err).Int64("retryInMs", backoff.Milliseconds()).Msg("reconciliation after lost history failed; retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, recoverMaxBackoff)
	}
}

// periodic runs a reconciliation every reconcile.interval (when > 0) until
// ctx ends: the context of one run of the watcher, which ends with the lease
// term (see instance.runWatcher), so a run in progress is cancelled when
// the term ends and none starts after it.
func (d *daemonReconcile) periodic(ctx context.Context) {
	if d.interval <= 0 || !d.track() {
		return
	}
	defer d.wg.Done()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(d.ctx, func() { cancel(errDaemonStopping) })()
	d.r.Every(ctx, d.interval, d.m)
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
