package daemon

import (
	"context"
	"errors"
	"sync"

	"github.com/projectwatcher/watcher/lease"
)

// What ends the work beside a run of the watcher (the cause its context is
// cancelled with, in the logs).
var (
	errDaemonStopping = errors.New("the daemon is stopping")
	errWatcherStopped = errors.New("the watcher stopped")
	errTermEnded      = errors.New("the lease term ended (the daemon is stopping)")
)

// soloEnd says why the context of a run without leases ended.
func soloEnd() error { return errDaemonStopping }

// termEnd says why the context of a lease term's run ended: the lease was
// lost (lease.ErrLost with its reason), or the term ended with a stop.
func termEnd(term *lease.Term) func() error {
	return func() error {
		if err := term.Err(); err != nil {
			return err
		}
		return errTermEnded
	}
}

// alongside starts in.beside (the periodic reconciliation) for one run of
// the watcher. Its context is cancelled when ctx ends (the lease term ends,
// or the daemon stops), the cause from why, or when the returned stop is
// called (the watcher stopped); stop waits for it to return.
func (in *instance) alongside(ctx context.Context, why func() error) (stop func()) {
	if in.beside == nil {
		return func() {}
	}
	bctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stopAfter := context.AfterFunc(ctx, func() { cancel(why()) })
	var wg sync.WaitGroup
	wg.Go(func() { in.beside(bctx) })
	return func() {
		stopAfter()
		cancel(errWatcherStopped)
		wg.Wait()
	}
}
