package watcher

import (
	"errors"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/event"
)

// follow reads, derives and dispatches until reading ends (nil: ctx ended,
// an event failed or the run was aborted) or something stops the watcher
// (an error).
func (r *run) follow() error {
	stall := time.AfterFunc(time.Hour, r.streamStalled)
	defer stall.Stop()
	for {
		r.o.Observer.Heartbeat()
		if r.readCtx.Err() != nil {
			return nil
		}
		stall.Reset(streamStallLimit)
		ch, ok, err := r.src.Next(r.readCtx)
		stall.Stop()
		if err == nil {
			r.answered()
		}
		if err != nil {
			if r.readCtx.Err() != nil {
				return nil
			}
			if err := r.streamFailed(err); err != nil {
				return err
			}
			continue
		}
		if !ok {
			r.mark.Idle(r.src.ResumeToken())
			continue
		}
		r.o.Observer.ChangeReceived(ch.Op)
		if err := r.handle(ch); err != nil {
			return err
		}
	}
}

// streamStallLimit is how long a read of the stream may go without an
// answer before the stream is reported down: the server answers every
// second at the latest (source's maxAwait), so this is a stream whose
// server does not answer (MongoDB unreachable, still within the driver's
// own server selection).
const streamStallLimit = 5 * time.Second

// streamStalled reports the stream down while a read waits for an answer
// longer than streamStallLimit.
func (r *run) streamStalled() {
	r.stallMu.Lock()
	defer r.stallMu.Unlock()
	if r.readCtx.Err() != nil {
		return
	}
	r.stalled = true
	r.log.Warn().Int64("waitedMs", streamStallLimit.Milliseconds()).
		Msg("the change stream has not answered; MongoDB may be unreachable (the driver keeps trying)")
	r.streamUp(false)
}

// answered reports the stream up again after a stall, once it answers.
func (r *run) answered() {
	r.stallMu.Lock()
	defer r.stallMu.Unlock()
	if r.stalled {
		r.stalled = false
		r.log.Info().Msg("the change stream answers again")
		r.streamUp(true)
	}
}

// handle derives ch and dispatches its event (a change that derives to
// nothing passes the watermark at once). A full queue blocks: the stream
// is read no faster than events are applied.
func (r *run) handle(ch event.Change) error {
	ev, has, err := Derive(ch, r.o.Fields)
	switch {
	case err != nil && (errors.Is(err, event.ErrInvalidID) || errors.Is(err, event.ErrInvalidValue)) && r.o.DeadLetters != nil:
		// Dead-lettered (reason invalid-id or invalid-value) by a worker,
		// in order with the project's events and the checkpoint; never a
		// Firestore write. The stream goes on.
		seq := r.mark.Track(ch.Token, ch.ClusterTime)
		_ = r.disp.DispatchInvalid(r.readCtx, seq, ch, ev, err) // fails only when reading ends
		return nil
	case err != nil:
		return r.deriveFailed(ch, err)
	case !has:
		r.mark.Pass(ch.Token, ch.ClusterTime)
		return nil
	}
	seq := r.mark.Track(ch.Token, ch.ClusterTime)
	// Lookups are resolved by the project's worker, right before the
	// apply: in order with the project's events, and retried with it. A
	// failed dispatch (reading ended while the queue was full) leaves the
	// event in flight: it is replayed.
	_ = r.disp.Dispatch(r.readCtx, seq, ev)
	return nil
}

// streamFailed handles an error reading the stream: a lost history is
// repaired or fatal; anything else reopens the stream after the last change
// read, or stops the watcher.
func (r *run) streamFailed(err error) error {
	r.streamUp(false) // from the moment it is lost until it is open again
	if errors.Is(err, event.ErrHistoryLost) {
		return r.historyLost(err)
	}
	return r.reopenStream(err)
}

// deriveFailed logs why a change cannot be derived and returns the error
// that stops the watcher: nothing is ever dropped silently.
func (r *run) deriveFailed(ch event.Change, err error) error {
	e := r.log.Error().Err(err).Str("op", ch.Op).Str("clusterTime", event.TimestampString(ch.ClusterTime))
	var fatal *FatalError
	switch {
	case errors.As(err, &fatal):
		e.Msg("the watched collection's change stream ended; stopping without touching Firestore")
		return fmt.Errorf("change stream ended by %s: %w", fatal.Op, err)
	case errors.Is(err, event.ErrInvalidID):
		e.Str("documentKey", rawString(ch.DocumentKey)).
			Msg("a change has a documentKey._id that cannot name a project; stopping instead of dropping it")
		return fmt.Errorf("change with invalid documentKey %s: %w", rawString(ch.DocumentKey), err)
	default:
		e.Str("documentKey", rawString(ch.DocumentKey)).
			Msg("cannot derive an event from a change; stopping instead of dropping it")
		return fmt.Errorf("derive %s change: %w", ch.Op, err)
	}
}
