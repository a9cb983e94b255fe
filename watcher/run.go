package watcher

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ChangeSource is the change stream as the run loop uses it (*Source).
type ChangeSource interface {
	// Open starts the stream after token, or at the configured start
	// position when token is nil. Open and Next report a position that is
	// no longer in the history with an error wrapping event.ErrHistoryLost.
	Open(ctx context.Context, token bson.Raw) error
	// Next returns the next change; ok is false when nothing new arrived
	// within the server's wait (the batch is exhausted).
	Next(ctx context.Context) (ch event.Change, ok bool, err error)
	// ResumeToken is the stream's current (post-batch) resume token.
	ResumeToken() bson.Raw
	Close(ctx context.Context) error
}

// FieldResolver reads the values of Event.Lookup paths from MongoDB (*Resolver).
type FieldResolver interface {
	Resolve(ctx context.Context, ev *event.Event) error
}

// Options are what a Watcher needs.
type Options struct {
	Source   ChangeSource
	Resolver FieldResolver
	Applier  Applier
	Store    TokenStore
	Observer Observer // nil: observe nothing

	Fields             []string // configured source field paths
	Workers            int      // parallel appliers (default 8)
	QueueSize          int      // events queued per worker (default 64)
	CheckpointInterval time.Duration
	// DrainTimeout bounds the wait for queued events on shutdown; after it
	// the remaining applies are cancelled (they stay before the watermark).
	// 0: wait until they finish.
	DrainTimeout time.Duration
	StartAt      string // resume.startAt, for the logs (the Source applies it)
	Logger       zerolog.Logger

	// Retry retries transient failures of an event (zero: one attempt).
	Retry RetryPolicy
	// DeadLetters parks events that fail for good (permanent failure, no
	// attempts left, invalid id, safety limit) so the stream goes on. nil:
	// such an event stops the watcher.
	DeadLetters DeadLetterStore
	// Failures is told about retries and dead letters (nil: nobody).
	Failures FailureObserver
	// Abort, when closed, stops the watcher at once: reading stops, the
	// applies in flight are cancelled and no final checkpoint is saved
	// (the leader lease was lost). nil: never.
	Abort <-chan struct{}

	// OnHistoryLost (resume.onHistoryLost: reconcile), when set, handles a
	// stored resume token that is no longer in the history: Run logs the
	// loss at warn level, reopens the stream from now (RestartSource, or
	// Source with a nil token) and calls OnHistoryLost in the background
	// (a full reconciliation). Until it returns nil no checkpoint is
	// stored, so a stop before the repair finished repairs again on the
	// next start. nil: a lost history stops Run with event.ErrHistoryLost.
	OnHistoryLost func(ctx context.Context) error
	// RestartSource is the stream opened after a lost history; with a nil
	// token it must start at now. nil: Source.
	RestartSource ChangeSource
}

// Watcher follows the change stream and applies what it derives.
type Watcher struct {
	o          Options
	log        zerolog.Logger
	streamOpen atomic.Bool
	ckpt       atomic.Pointer[Checkpointer]
	disp       atomic.Pointer[Dispatcher]
	hold       *holdStore // nil without OnHistoryLost
}

// holdStore stores no checkpoint while held: during the repair after a
// lost history, a newer token stored would hide the loss from the next start.
type holdStore struct {
	TokenStore
	held atomic.Bool
}

func (s *holdStore) Save(ctx context.Context, cp event.Checkpoint) error {
	if s.held.Load() {
		return nil
	}
	return s.TokenStore.Save(ctx, cp)
}

// Position is the checkpoint watermark: the newest position whose event and
// every earlier one is applied (ok is false before there is one).
func (w *Watcher) Position() (event.Checkpoint, bool) {
	c := w.ckpt.Load()
	if c == nil {
		return event.Checkpoint{}, false
	}
	return c.Watermark()
}

// QueueDepths returns the number of events queued per worker (nil before
// Run starts its workers).
func (w *Watcher) QueueDepths() []int {
	d := w.disp.Load()
	if d == nil {
		return nil
	}
	out := make([]int, len(d.queues))
	for i, q := range d.queues {
		out[i] = len(q)
	}
	return out
}

// Progress reports the events in flight and when work last progressed (an
// event completed, or work became pending after none was): what a stall
// watchdog needs. Zero values before Run.
func (w *Watcher) Progress() (inFlight int, last time.Time) {
	c := w.ckpt.Load()
	if c == nil {
		return 0, time.Time{}
	}
	return c.Progress()
}

// StreamErr is nil while the change stream is open (for readiness checks).
func (w *Watcher) StreamErr(context.Context) error {
	if w.streamOpen.Load() {
		return nil
	}
	return errors.New("the change stream is not open")
}

// New checks opts and returns a Watcher.
func New(opts Options) (*Watcher, error) {
	var missing []error
	if opts.Source == nil {
		missing = append(missing, errors.New("watcher: Source is required"))
	}
	if opts.Resolver == nil {
		missing = append(missing, errors.New("watcher: Resolver is required"))
	}
	if opts.Applier == nil {
		missing = append(missing, errors.New("watcher: Applier is required"))
	}
	if opts.Store == nil {
		missing = append(missing, errors.New("watcher: Store is required"))
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	if opts.Workers < 1 {
		opts.Workers = 8
	}
	if opts.QueueSize < 1 {
		opts.QueueSize = 64
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = time.Second
	}
	return &Watcher{o: opts, log: opts.Logger.With().Str("component", "watcher").Logger()}, nil
}

// Run follows the stream until ctx ends (a clean stop: nil) or something
// stops it (an error). Either way it stops reading, lets the queued events
// finish, and saves the final watermark before returning.
func (w *Watcher) Run(ctx context.Context) error {
	cp, found, err := w.o.Store.Load(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return fmt.Errorf("load checkpoint: %w", err)
	}
	var store TokenStore = w.o.Store
	if w.o.OnHistoryLost != nil {
		w.hold = &holdStore{TokenStore: w.o.Store}
		store = w.hold
	}
	ckpt := NewCheckpointer(store, w.o.Observer, w.log)
	w.ckpt.Store(ckpt)
	var token bson.Raw
	if found {
		ckpt.Restore(cp)
		token = cp.Token
		w.log.Info().Str("clusterTime", event.TimestampString(cp.ClusterTime)).Time("savedAt", cp.SavedAt).
			Msg("resuming the change stream from the stored checkpoint")
		w.log.Debug().Str("token", tokenString(cp.Token)).Msg("stored resume token")
	} else {
		w.log.Info().Str("startAt", w.o.StartAt).
			Msg("no checkpoint stored; starting the change stream at resume.startAt")
	}

	if err := w.o.Source.Open(ctx, token); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case errors.Is(err, event.ErrHistoryLost) && w.o.OnHistoryLost != nil:
			if err := w.recoverHistory(ctx, err); err != nil {
				return err
			}
		case errors.Is(err, event.ErrHistoryLost):
			return w.historyLost(err, cp, found)
		default:
			return fmt.Errorf("open change stream: %w", err)
		}
	}
	w.o.Observer.StreamOpen(true)
	w.streamOpen.Store(true)
	defer func() {
		w.streamOpen.Store(false)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := w.o.Source.Close(cctx); err != nil {
			w.log.Warn().Err(err).Msg("closing the change stream")
		}
		w.o.Observer.StreamOpen(false)
	}()

	// Applies outlive the reader: on shutdown queued events still finish.
	applyCtx, cancelApply := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelApply()
	disp := NewDispatcher(w.o.Applier, ckpt, w.o.Observer, w.log, w.o.Workers, w.o.QueueSize,
		WithRetry(w.o.Retry), WithResolver(w.o.Resolver), WithDeadLetters(w.o.DeadLetters), WithFailureObserver(w.o.Failures))
	disp.Start(applyCtx)
	w.disp.Store(disp)

	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	go func() {
		select {
		case <-ckpt.Failed():
			stopLoop()
		case <-loopCtx.Done():
		}
	}()
	// The saver keeps going while the queued events drain.
	saverCtx, stopSaver := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSaver()
	saverDone := make(chan struct{})
	go func() {
		defer close(saverDone)
		ckpt.SaveEvery(saverCtx, w.o.CheckpointInterval)
	}()

	runDone := make(chan struct{})
	defer close(runDone)
	go func() {
		select {
		case <-w.o.Abort:
			stopLoop()
			cancelApply()
			stopSaver()
		case <-runDone:
		}
	}()

	loopErr := w.loop(loopCtx, ckpt, disp, cp, found)
	stopLoop()
	drainErr := w.drain(disp, cancelApply, ckpt)
	stopSaver()
	<-saverDone
	if isClosed(w.o.Abort) {
		w.log.Warn().Int("notApplied", ckpt.InFlight()).
			Msg("watcher stopped at once (leadership lost); no final checkpoint: the next leader replays what was not saved")
		return errors.Join(loopErr, drainErr)
	}

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, saveErr := ckpt.Save(sctx)
	final, _ := ckpt.Watermark()
	if saveErr != nil {
		w.log.Error().Err(saveErr).Str("clusterTime", event.TimestampString(final.ClusterTime)).
			Msg("watcher stopped; the final checkpoint could not be saved (the stream resumes from the last saved one)")
	} else {
		w.log.Info().Str("clusterTime", event.TimestampString(final.ClusterTime)).Int("notApplied", ckpt.InFlight()).
			Msg("watcher stopped; final checkpoint saved")
	}

	var applyErr error
	if err := ckpt.Err(); err != nil && drainErr == nil {
		applyErr = fmt.Errorf("an event could not be applied; the checkpoint stays before it: %w", err)
	}
	return errors.Join(applyErr, loopErr, drainErr, saveErr)
}

// drain waits for the queued events, cancelling them after DrainTimeout.
func (w *Watcher) drain(disp *Dispatcher, cancelApply context.CancelFunc, ckpt *Checkpointer) error {
	w.log.Info().Int("inFlight", ckpt.InFlight()).Msg("stopped reading the change stream; draining queued events")
	if w.o.DrainTimeout <= 0 {
		disp.Close()
		return nil
	}
	done := make(chan struct{})
	go func() {
		disp.Close()
		close(done)
	}()
	t := time.NewTimer(w.o.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		cancelApply()
		<-done
		return fmt.Errorf("draining queued events took longer than %s; the unfinished ones stay after the checkpoint", w.o.DrainTimeout)
	}
}

// loop reads, derives and dispatches until ctx ends (nil) or something
// stops the watcher (an error).
func (w *Watcher) loop(ctx context.Context, ckpt *Checkpointer, disp *Dispatcher, stored event.Checkpoint, found bool) error {
	for {
		w.o.Observer.Heartbeat()
		if ctx.Err() != nil {
			return nil
		}
		ch, ok, err := w.o.Source.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, event.ErrHistoryLost) && w.o.OnHistoryLost != nil {
				if err := w.recoverHistory(ctx, err); err != nil {
					return err
				}
				continue
			}
			if errors.Is(err, event.ErrHistoryLost) {
				return w.historyLost(err, stored, found)
			}
			if err := w.reopenStream(ctx, err); err != nil {
				return err
			}
			continue
		}
		if !ok {
			ckpt.Idle(w.o.Source.ResumeToken())
			continue
		}
		w.o.Observer.ChangeReceived(ch.Op)

		ev, has, err := Derive(ch, w.o.Fields)
		if err != nil && errors.Is(err, event.ErrInvalidID) && w.o.DeadLetters != nil {
			// Dead-lettered (reason invalid-id) by a worker, in order
			// with the checkpoint; never a Firestore query.
			seq := ckpt.Track(ch.Token, ch.ClusterTime)
			if err := disp.DispatchInvalid(ctx, seq, ch, err); err != nil {
				return nil
			}
			continue
		}
		if err != nil {
			return w.deriveFailed(ch, err)
		}
		if !has {
			ckpt.Pass(ch.Token, ch.ClusterTime)
			continue
		}
		seq := ckpt.Track(ch.Token, ch.ClusterTime)
		// Lookups are resolved by the project's worker, right before the
		// apply: in order with the project's events, and retried with it.
		if err := disp.Dispatch(ctx, seq, ev); err != nil {
			return nil // ctx ended while the queue was full; stays in flight
		}
	}
}

// deriveFailed logs why a change cannot be derived and returns the error
// that stops the watcher: nothing is ever dropped silently.
func (w *Watcher) deriveFailed(ch event.Change, err error) error {
	e := w.log.Error().Err(err).Str("op", ch.Op).Str("clusterTime", event.TimestampString(ch.ClusterTime))
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

// recoverHistory reopens the stream from now after a lost history and
// starts OnHistoryLost in the background; checkpoints are held until it
// succeeds.
func (w *Watcher) recoverHistory(ctx context.Context, cause error) error {
	w.log.Warn().Err(cause).
		Str("lost", "events since the stored checkpoint may have been missed").
		Msg("change stream history lost; resume.onHistoryLost is reconcile: restarting the stream from now and reconciling everything")
	w.hold.held.Store(true)
	if w.o.RestartSource != nil && w.o.RestartSource != w.o.Source {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = w.o.Source.Close(cctx)
		cancel()
		w.o.Source = w.o.RestartSource
	}
	if err := w.o.Source.Open(ctx, nil); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("reopen the change stream from now after a lost history: %w", err)
	}
	go func() {
		if err := w.o.OnHistoryLost(ctx); err != nil {
			if ctx.Err() == nil {
				w.log.Error().Err(err).Msg("the repair after a lost history failed; no checkpoint is stored, so the next start repairs again")
			}
			return
		}
		w.hold.held.Store(false)
		w.log.Info().Msg("repair after a lost history finished; checkpoints are stored again")
	}()
	return nil
}

// historyLost logs, for the operator, what happened, what was lost and the
// ways out, and returns the error (it wraps event.ErrHistoryLost).
func (w *Watcher) historyLost(err error, stored event.Checkpoint, found bool) error {
	since := "the stored checkpoint"
	if found {
		since = fmt.Sprintf("the checkpoint's cluster time %s", event.TimestampString(stored.ClusterTime))
		if stored.ClusterTime.T != 0 {
			since += " (" + time.Unix(int64(stored.ClusterTime.T), 0).UTC().Format(time.RFC3339) + ")"
		}
	}
	w.log.Error().Err(err).
		Str("happened", "the stored resume token is no longer in the oplog/change stream history").
		Str("lost", "events between "+since+" and now may have been missed: project deletes and field renames in that window were not applied to Firestore").
		Str("fix", `either run "watcher checkpoint reset --yes", start the watcher again (it starts at resume.startAt) and run "watcher reconcile" to repair the missed changes; or set resume.onHistoryLost: reconcile`).
		Msg("change stream history lost; the watcher stops and will not restart from now by itself")
	return err
}

func rawString(r bson.Raw) string {
	if len(r) == 0 {
		return "<none>"
	}
	if err := r.Validate(); err != nil {
		return fmt.Sprintf("<invalid BSON %x>", []byte(r))
	}
	return r.String()
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return c != nil
	default:
		return false
	}
}

type nopObserver struct{}

func (nopObserver) Heartbeat()                                                                     {}
func (nopObserver) StreamOpen(bool)                                                                {}
func (nopObserver) ChangeReceived(string)                                                          {}
func (nopObserver) CheckpointSaved(time.Time)                                                      {}
func (nopObserver) EventApplied(event.Kind, string, time.Duration, time.Time, event.Report, error) {}
