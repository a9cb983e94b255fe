package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
)

// stopSignals turns SIGTERM and SIGINT into the daemon's two ways to stop:
// the first cancels ctx (stop reading, drain within shutdown.drainTimeout,
// save the checkpoint), the second closes stopNow (cancel what is in flight
// at once; the checkpoint is saved before it). stop releases the signals.
func stopSignals(parent context.Context, log zerolog.Logger) (ctx context.Context, stopNow <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	now := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for n := 0; ; n++ {
			select {
			case s := <-sigs:
				if n == 0 {
					log.Info().Str("signal", s.String()).Msg("stopping: draining queued events (a second signal stops at once)")
					cancel()
					continue
				}
				log.Warn().Str("signal", s.String()).Msg("second signal: stopping now")
				close(now)
				<-done
				return
			case <-done:
				return
			}
		}
	}()
	return ctx, now, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
