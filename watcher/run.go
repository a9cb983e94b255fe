package watcher

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/rs/zerolog"
)

// Options are what a Watcher needs.
type Options struct {
	Source   ChangeSource
	Resolver ProjectReader
	Applier  Applier
	Store    TokenStore
	Observer Observer // nil: observe nothing

	Fields             []string // configured source field paths
	Workers            int      // parallel appliers (default 8)
	QueueSize          int      // events queued per worker (default 64)
	CheckpointInterval time.Duration
	// DrainTimeout bounds the wait for queued events on shutdown; after it
	// the remaining applies are cancelled (they stay after the checkpoint
	// and are replayed) and Run returns as after a clean stop. 0: wait
	// until they finish.
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
	// Dependencies tells whether Firestore and MongoDB answer (nil: every
	// failed attempt counts against Retry.MaxAttempts).
	Dependencies Dependencies
	// Abort, when closed, stops the watcher at once: reading stops, the
	// applies in flight are cancelled and no final checkpoint is saved
	// (the leader lease was lost). nil: never.
	Abort <-chan struct{}
	// StopNow, when closed during a stop (a second SIGTERM or SIGINT), ends
	// the drain at once: the applies in flight are cancelled and the final
	// checkpoint is saved before every unfinished event. nil: never.
	StopNow <-chan struct{}
	// DryRun says that the applier writes nothing (safety.dryRun): the logs
	// say what would be applied and that no checkpoint is stored.
	DryRun bool

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
	o   Options
	log zerolog.Logger

	streamOpen atomic.Bool
	cur        atomic.Pointer[run] // the latest Run's state
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
		opts.Observer = NopObserver{}
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
	if opts.RestartSource == nil {
		opts.RestartSource = opts.Source
	}
	return &Watcher{o: opts, log: opts.Logger.With().Str("component", "watcher").Logger()}, nil
}

// Run follows the stream until ctx ends (a clean stop: nil) or something
// stops it (an error). Its lifecycle, top to bottom: start (load the
// checkpoint, open the stream, start the workers and the saver), follow
// (read, derive, dispatch), stop (drain or abort, save the final
// watermark, join everything it started).
func (w *Watcher) Run(ctx context.Context) error {
	r, err := w.start(ctx)
	if err != nil || r == nil {
		return err
	}
	return r.stop(r.follow())
}

// Position is the checkpoint watermark: the newest position whose event and
// every earlier one is applied (ok is false before there is one).
func (w *Watcher) Position() (event.Checkpoint, bool) {
	if r := w.cur.Load(); r != nil {
		return r.mark.Position()
	}
	return event.Checkpoint{}, false
}

// Pending is how many events the dispatcher holds (queued, being applied
// or waiting for a retry) and how many projects wait for a retry; zero
// before Run.
func (w *Watcher) Pending() (events, retrying int) {
	if r := w.cur.Load(); r != nil {
		return r.disp.Pending()
	}
	return 0, 0
}

// Progress reports the events in flight and when work last progressed (an
// event completed, or work became pending after none was): what a stall
// watchdog needs. Zero values before Run.
func (w *Watcher) Progress() (inFlight int, last time.Time) {
	if r := w.cur.Load(); r != nil {
		return r.mark.Progress()
	}
	return 0, time.Time{}
}

// Lag is how long the oldest change not yet applied has waited since
// MongoDB wrote it; 0 when nothing is pending (or before Run).
func (w *Watcher) Lag() time.Duration {
	if r := w.cur.Load(); r != nil {
		return r.mark.Lag()
	}
	return 0
}

// StreamErr is nil while the change stream is open (for readiness checks).
func (w *Watcher) StreamErr(context.Context) error {
	if w.streamOpen.Load() {
		return nil
	}
	return errors.New("the change stream is not open")
}

// ErrNotRunning is the answer of Apply while the watcher does not run.
var ErrNotRunning = errors.New("watcher: not running (no stream is being followed)")

// Apply implements Applier for repairs (the daemon's reconciliation): ev is
// prepared and applied in its project's order with the stream's events, so
// a repair never races an event of the same project; it is not tracked by
// the checkpoint. One attempt; the repair decides what a failure means.
func (w *Watcher) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	r := w.cur.Load()
	if r == nil || r.applyCtx.Err() != nil {
		return event.Report{}, ErrNotRunning
	}
	rep, err := r.disp.ApplyNow(ctx, ev)
	if errors.Is(err, errClosing) {
		return rep, ErrNotRunning
	}
	return rep, err
}
