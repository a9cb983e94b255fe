package daemon

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Run opens the clients, builds the daemon on them, serves /healthz,
// /readyz, /status and /metrics, runs the watcher until ctx is cancelled,
// and stops everything it started before it returns. A clean stop returns
// nil.
func Run(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	reg := prometheus.NewRegistry() // everything the process exposes on /metrics
	calls, err := metrics.NewFirestoreCalls(reg)
	if err != nil {
		return err
	}
	meter, err := fsmeter.ClientOptions(calls, os.Getenv("FIRESTORE_EMULATOR_HOST"))
	if err != nil {
		return err
	}
	d, err := Open(ctx, cfg, log, WithFirestoreOptions(meter...))
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }() // logs its own failure
	r, err := build(d, reg, log)
	if err != nil {
		return err
	}
	return r.run(ctx)
}

// run serves, runs the watcher until ctx ends (or it fails), then stops.
func (r *running) run(ctx context.Context) error {
	stopServing := r.serve(ctx)
	r.rec.start(r.state.leading)
	runErr := r.in.run(ctx)
	return errors.Join(runErr, r.stop(stopServing))
}

// serve starts what runs beside the watcher: the HTTP server and the
// count of dead letters. They do not end with ctx (the probes and
// /metrics answer until the watcher has stopped), but when the returned
// stop is called; stop waits for both and returns the server's error.
func (r *running) serve(ctx context.Context) (stop func() error) {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var httpErr error
	wg.Add(2)
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
