package daemon

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/projectwatcher/watcher/reconcile"
	"github.com/projectwatcher/watcher/source"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
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

// newDaemonReconcile builds the reconciler repairing through applier (the
// applier the events use) and registers its metrics on reg.
func newDaemonReconcile(cfg config.Config, fs *firestore.Client, projects *mongo.Collection, applier watcher.Applier,
	reg prometheus.Registerer, log zerolog.Logger) (*daemonReconcile, error) {
	r, err := reconcile.New(fs, projects, cfg.Sync, applier, log, reconcile.Options{PagesPerSecond: daemonPagesPerSecond})
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

// install sets the watcher's lost-history hook when
// resume.onHistoryLost is reconcile: the stream restarts from now.
func (d *daemonReconcile) install(cfg config.Config, o *watcher.Options, projects *mongo.Collection, log zerolog.Logger) {
	if cfg.Resume.OnHistoryLost != "reconcile" {
		return
	}
	o.OnHistoryLost = d.afterHistoryLost
	o.RestartSource = source.NewSource(projects, "now", log)
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
