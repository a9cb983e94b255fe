package daemon

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// RunOption tunes Run.
type RunOption func(*runOptions)

type runOptions struct {
	stopNow <-chan struct{}
	build   metrics.Build
}

// WithStopNow ends the drain at once when stopNow is closed (a second
// SIGTERM or SIGINT): what is in flight is cancelled, and the checkpoint is
// saved before it.
func WithStopNow(stopNow <-chan struct{}) RunOption {
	return func(o *runOptions) { o.stopNow = stopNow }
}

// WithBuild names the running binary (its version, commit and Go
// version): watcher_build_info and /status "build" show it.
func WithBuild(version, commit, goVersion string) RunOption {
	return func(o *runOptions) { o.build = metrics.Build{Version: version, Commit: commit, GoVersion: goVersion} }
}

// Run opens the clients, builds the daemon on them, serves /healthz,
// /readyz, /status and /metrics, runs the watcher until ctx is cancelled,
// and stops everything it started before it returns. A clean stop returns
// nil.
func Run(ctx context.Context, cfg config.Config, log zerolog.Logger, opts ...RunOption) error {
	var ro runOptions
	for _, o := range opts {
		o(&ro)
	}
	reg := prometheus.NewRegistry() // everything the process exposes on /metrics
	health := fsmeter.NewHealth()
	health.OnChange(logFirestoreChanges(log))
	calls, err := metrics.NewFirestoreCalls(reg, health)
	if err != nil {
		return err
	}
	open := []Option{WithFirestoreMeter(calls, health)}
	if cfg.Lease.Enabled && !cfg.Safety.DryRun {
		open = append(open, WithWriteFence())
	}
	d, err := Open(ctx, cfg, log, open...)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }() // logs its own failure
	if ro.build.Version != "" {
		if err := metrics.RegisterBuildInfo(reg, ro.build); err != nil {
			return err
		}
	}
	r, err := build(d, reg, log, ro)
	if err != nil {
		return err
	}
	return r.run(ctx)
}

// run serves, waits for MongoDB (mongo.startupTimeout), runs the watcher
// until ctx ends (or it fails), then stops. Ended while it waits for
// MongoDB, it stops cleanly.
func (r *running) run(ctx context.Context) error {
	stopServing := r.serve(ctx)
	if err := r.waitForMongo(ctx); err != nil {
		if ctx.Err() != nil {
			err = nil
		}
		return errors.Join(err, r.stop(stopServing))
	}
	runErr := r.in.run(ctx)
	return errors.Join(runErr, r.stop(stopServing))
}

// serve starts what runs beside the watcher: the HTTP server, the
// Firestore start-up check and the count of dead letters. They do not end
// with ctx (the probes and /metrics answer until the watcher has stopped),
// but when the returned stop is called; stop waits for them and returns
// the server's error.
func (r *running) serve(ctx context.Context) (stop func() error) {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var httpErr error
	wg.Add(2)
	wg.Go(func() { r.fsCheck.run(bg) })
	go func() {
		defer wg.Done()
		httpErr = r.hs.Serve(bg)
	}()
	go func() {
		defer wg.Done()
		r.fails.Run(bg, r.d.DeadLetters(), time.Minute, func(err error) {
			r.log.Warn().Err(err).Msg("counting the dead letters failed")
		})
	}()
	return func() error {
		cancel()
		wg.Wait()
		return httpErr
	}
}

// stop ends what run started once the watcher has returned: the
// background reconciliations first, then the HTTP server and the count.
func (r *running) stop(stopServing func() error) error {
	r.rec.stop()
	return errors.Join(stopServing(), r.bus.close())
}
