package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Term is one period of leadership. Its Context ends when the parent
// context ends (a clean stop) or when the lease is lost; Lost is closed
// only in the second case, at once, before another instance can take the
// lease. The lease is renewed until Release (or the loss), not only until
// the parent ends: a leader that drains its queued events after a SIGTERM
// still holds the lease while it writes.
type Term struct {
	l     *Lease
	epoch int64
	ctx   context.Context
	stop  context.CancelFunc
	// renewCtx ends at Release or at the loss.
	renewCtx  context.Context
	stopRenew context.CancelFunc

	lostOnce sync.Once
	lost     chan struct{}
	mu       sync.Mutex
	lostErr  error
	done     chan struct{} // the renewer stopped

	// deadline is when the term counts as lost unless renewed (the
	// renewer's deadline, with its monotonic reading); released is set by
	// Release. Allow reads both on every write.
	deadline atomic.Pointer[time.Time]
	released atomic.Bool
}

// startTerm starts the term taken with epoch by a request sent at sent,
// and its renewer.
func (l *Lease) startTerm(parent context.Context, epoch int64, sent time.Time) *Term {
	t := l.newTerm(parent, epoch, sent)
	go t.renewLoop(sent)
	return t
}

// newTerm is the term taken with epoch by a request sent at sent, without
// its renewer.
func (l *Lease) newTerm(parent context.Context, epoch int64, sent time.Time) *Term {
	ctx, stop := context.WithCancel(parent)
	renewCtx, stopRenew := context.WithCancel(context.WithoutCancel(parent))
	t := &Term{l: l, epoch: epoch, ctx: ctx, stop: stop, renewCtx: renewCtx, stopRenew: stopRenew,
		lost: make(chan struct{}), done: make(chan struct{})}
	t.setDeadline(sent.Add(l.ttl - l.skew))
	return t
}

// Epoch is the term's fencing number: larger than every earlier term's.
func (t *Term) Epoch() int64 { return t.epoch }

// Context ends with the term.
func (t *Term) Context() context.Context { return t.ctx }

// Lost is closed when the lease is lost.
func (t *Term) Lost() <-chan struct{} { return t.lost }

// Err is ErrLost (wrapped with the reason) once the lease is lost,
// nil otherwise.
func (t *Term) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lostErr
}

// Lose ends the term as lost (for example when a fenced write was refused).
func (t *Term) Lose(reason error) {
	t.lostOnce.Do(func() {
		t.mu.Lock()
		t.lostErr = fmt.Errorf("%w: %w", ErrLost, reason)
		t.mu.Unlock()
		t.stop() // before close: whoever wakes on Lost sees the context done
		t.stopRenew()
		close(t.lost)
		t.l.log.Error().Err(reason).Int64("epoch", t.epoch).Msg("lost the leader lease; stopping at once")
	})
}

// Allow is nil while this term may write: it is not lost, not released,
// and its deadline has not passed. Past the deadline it ends the term as
// lost at once, on the caller's goroutine, without waiting for the
// renewer's timer: a process that was paused (SIGSTOP, a frozen VM) and
// resumed after its deadline is refused at its first write, even when its
// timers have not run yet. Writers outside the lease (the Firestore
// fence) call it before every write.
func (t *Term) Allow() error {
	if err := t.Err(); err != nil {
		return err
	}
	if t.released.Load() {
		return fmt.Errorf("%w: the term was released (epoch %d)", ErrLost, t.epoch)
	}
	if !time.Now().Before(*t.deadline.Load()) {
		t.Lose(t.l.expired())
		return t.Err()
	}
	return nil
}

// setDeadline records when the term counts as lost unless renewed.
func (t *Term) setDeadline(d time.Time) { t.deadline.Store(&d) }

// expired is why a term not renewed before its deadline is lost.
func (l *Lease) expired() error {
	return fmt.Errorf("not renewed before its deadline (ttl %s, skew margin %s)", l.ttl, l.skew)
}

// Release stops renewing and frees the lease if this term still holds it
// in MongoDB (also after a loss: the release is conditional on owner and
// epoch, so it never touches another instance's lease), so a standby takes
// over at once. Call it after the work of the term stopped.
func (t *Term) Release(ctx context.Context) error {
	t.released.Store(true)
	t.stop()
	t.stopRenew()
	<-t.done
	if err := t.l.release(ctx, t.epoch); err != nil {
		return err
	}
	t.l.log.Info().Int64("epoch", t.epoch).Msg("released the leader lease")
	return nil
}

// renewLoop renews every TTL/3. The lease counts as lost at the deadline:
// SkewMargin before the expiry written by the last successful renewal,
// measured from when that renewal was sent.
func (t *Term) renewLoop(sent time.Time) {
	defer close(t.done)
	l := t.l
	deadline := sent.Add(l.ttl - l.skew)
	dl := time.NewTimer(time.Until(deadline))
	defer dl.Stop()
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-t.renewCtx.Done():
			return
		case <-dl.C:
			t.Lose(l.expired())
			return
		case <-tick.C:
		}
		// A paused process may wake with both timers due: the deadline wins.
		if !time.Now().Before(deadline) {
			t.Lose(l.expired())
			return
		}
		start := time.Now()
		rctx, cancel := context.WithDeadline(t.renewCtx, deadline)
		ok, err := l.renew(rctx, t.epoch)
		cancel()
		switch {
		case t.renewCtx.Err() != nil:
			return
		case err != nil:
			l.log.Warn().Err(err).Time("deadline", deadline).Msg("renewing the lease failed; retrying until the deadline")
		case !ok:
			t.Lose(errors.New("another instance holds the lease"))
			return
		default:
			deadline = start.Add(l.ttl - l.skew)
			t.setDeadline(deadline)
			if !dl.Stop() {
				select {
				case <-dl.C:
				default:
				}
			}
			dl.Reset(time.Until(deadline))
		}
	}
}
