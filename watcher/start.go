package watcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// run is the state of one Run: what it reads, what it started, and the
// contexts that end each part, so that stop can end and join all of it.
type run struct {
	w     *Watcher
	o     *Options
	log   zerolog.Logger
	mark  *watermark
	saver *saver
	disp  *dispatcher
	src   ChangeSource // Source, or RestartSource after a lost history

	stored event.Checkpoint // loaded at start
	found  bool

	ctx          context.Context // Run's
	readCtx      context.Context // reading; ends with ctx, a failure or an abort
	stopReading  context.CancelFunc
	applyCtx     context.Context // applies outlive reading: queued events drain
	cancelApply  context.CancelFunc
	saveCtx      context.Context // the saver keeps going while events drain
	stopSaving   context.CancelFunc
	done         chan struct{} // closed by stop: background watches end
	bg           sync.WaitGroup
	stallMu      sync.Mutex // streamStalled and answered
	stalled      bool
	repairMu     sync.Mutex
	cancelRepair context.CancelFunc // the running repair after a lost history
}

// start loads the checkpoint, opens the stream (handling a lost history)
// and starts the workers, the saver and the watch for aborts and failures.
// It returns nil, nil when ctx ended while starting.
func (w *Watcher) start(ctx context.Context) (*run, error) {
	cp, found, err := w.o.Store.Load(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil // stopped while starting
		}
		return nil, err // the store says "load checkpoint …"
	}
	r := w.newRun(ctx, cp, found)
	if err := r.open(); err != nil {
		r.endContexts()
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, err
	}
	if err := r.persistStart(); err != nil {
		r.endContexts()
		r.closeStream()
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, err
	}
	r.streamUp(true)
	r.disp.Start(r.applyCtx)
	r.bg.Go(func() { r.saver.every(r.saveCtx, r.o.CheckpointInterval) })
	r.bg.Go(r.watch)
	return r, nil
}

func (w *Watcher) newRun(ctx context.Context, cp event.Checkpoint, found bool) *run {
	r := &run{w: w, o: &w.o, log: w.log, src: w.o.Source, stored: cp, found: found, ctx: ctx, done: make(chan struct{})}
	r.readCtx, r.stopReading = context.WithCancel(ctx)
	r.applyCtx, r.cancelApply = context.WithCancel(context.WithoutCancel(ctx))
	r.saveCtx, r.stopSaving = context.WithCancel(context.WithoutCancel(ctx))
	r.mark = newWatermark(nil)
	r.saver = newSaver(w.o.Store, r.mark, w.o.Observer, w.log)
	if found {
		r.mark.Restore(cp)
		r.saver.restored(cp.Token)
	}
	r.disp = newDispatcher(w.o.Applier, r.mark, w.o.Observer, w.log, w.o.Workers, w.o.QueueSize,
		withRetry(w.o.Retry), withResolver(w.o.Resolver), withDeadLetters(w.o.DeadLetters), withFailureObserver(w.o.Failures),
		withDependencies(w.o.Dependencies), withDryRun(w.o.DryRun))
	w.cur.Store(r)
	return r
}

// open opens the stream after the stored token (at resume.startAt without
// one).
func (r *run) open() error {
	var token bson.Raw
	if r.found {
		token = r.stored.Token
		r.log.Info().Str("clusterTime", event.TimestampString(r.stored.ClusterTime)).Time("savedAt", r.stored.SavedAt).
			Msg("resuming the change stream from the stored checkpoint")
		r.log.Debug().Str("token", tokenString(token)).Msg("stored resume token")
	} else {
		r.log.Info().Str("startAt", r.o.StartAt).
			Msg("no checkpoint stored; starting the change stream at resume.startAt")
	}
	err := r.src.Open(r.readCtx, token)
	switch {
	case err == nil:
		return nil
	case r.ctx.Err() != nil:
		return err
	case errors.Is(err, event.ErrHistoryLost):
		return r.historyLost(err)
	}
	return fmt.Errorf("open change stream: %w", err)
}

// watch ends reading at the first failed event, and everything at once
// when the run is aborted (the lease was lost), until stop.
func (r *run) watch() {
	failed := r.mark.Failed()
	for {
		select {
		case <-failed:
			failed = nil
			r.stopReading()
		case <-r.o.Abort: // nil: never
			r.endContexts()
			return
		case <-r.done:
			return
		}
	}
}

// endContexts stops reading, applying and saving at once.
func (r *run) endContexts() {
	r.stopReading()
	r.cancelApply()
	r.stopSaving()
}

// persistStart stores, on a first start (no checkpoint), the position the
// stream opened at, before any event is applied and before the stream is
// reported open (readiness): a process killed right after starts there
// again, not at a new "now" that would skip what happened in between.
func (r *run) persistStart() error {
	if r.found {
		return nil
	}
	token := r.src.ResumeToken()
	if len(token) == 0 || !r.mark.Idle(token) {
		r.log.Warn().Msg("the change stream gave no start position; the first checkpoint is stored at the next interval")
		return nil
	}
	ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
	defer cancel()
	wrote, err := r.saver.save(ctx)
	if err != nil {
		return fmt.Errorf("store the position the change stream started at: %w", err)
	}
	if wrote && !r.o.DryRun {
		r.log.Info().Str("token", tokenString(token)).Msg("first start: the position the stream opened at is stored")
	}
	return nil
}

// streamUp reports the stream open or lost (readiness, watcher_stream_up).
func (r *run) streamUp(up bool) {
	if r.w.streamOpen.Swap(up) != up {
		r.o.Observer.StreamOpen(up)
	}
}
