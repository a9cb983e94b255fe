package watcher

import (
	"context"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/event"
)

// historyLost handles a stored position that is no longer in the history:
// with OnHistoryLost it restarts the stream from now and repairs; without,
// it stops the watcher with the operator's way out.
func (r *run) historyLost(err error) error {
	if r.o.OnHistoryLost == nil {
		return r.historyLostFatal(err)
	}
	return r.recoverHistory(err)
}

// recoverHistory reopens the stream from now and starts OnHistoryLost in
// the background; checkpoints are held until a repair that started after
// the latest loss succeeds (a repair running when the history is lost
// again is cancelled: it could not cover the second gap).
func (r *run) recoverHistory(cause error) error {
	r.log.Warn().Err(cause).
		Str("lost", "events since the stored checkpoint may have been missed").
		Msg("change stream history lost; resume.onHistoryLost is reconcile: restarting the stream from now and reconciling everything")
	gen := r.saver.hold()
	if r.src != r.o.RestartSource {
		r.closeSource(r.src)
		r.src = r.o.RestartSource
	}
	if err := r.src.Open(r.readCtx, nil); err != nil {
		if r.readCtx.Err() != nil {
			return nil
		}
		return fmt.Errorf("reopen the change stream from now after a lost history: %w", err)
	}
	r.streamUp(true)
	r.startRepair(gen)
	return nil
}

// startRepair runs OnHistoryLost for the loss of generation gen, in the
// background until it ends or stop cancels it.
func (r *run) startRepair(gen uint64) {
	ctx, cancel := context.WithCancel(r.ctx)
	r.repairMu.Lock()
	if r.cancelRepair != nil {
		r.cancelRepair()
	}
	r.cancelRepair = cancel
	r.repairMu.Unlock()
	r.bg.Go(func() {
		defer cancel()
		if err := r.o.OnHistoryLost(ctx); err != nil {
			if ctx.Err() == nil {
				r.log.Error().Err(err).Msg("the repair after a lost history failed; no checkpoint is stored, so the next start repairs again")
			}
			return
		}
		if r.saver.release(gen) {
			r.log.Info().Msg("repair after a lost history finished; checkpoints are stored again")
		}
	})
}

// stopRepairs cancels the running repair (stop joins it).
func (r *run) stopRepairs() {
	r.repairMu.Lock()
	defer r.repairMu.Unlock()
	if r.cancelRepair != nil {
		r.cancelRepair()
	}
}

// historyLostFatal logs, for the operator, what happened, what was lost and
// the ways out, and returns the error (it wraps event.ErrHistoryLost).
func (r *run) historyLostFatal(err error) error {
	since := "the stored checkpoint"
	if r.found {
		since = fmt.Sprintf("the checkpoint's cluster time %s", event.TimestampString(r.stored.ClusterTime))
		if r.stored.ClusterTime.T != 0 {
			since += " (" + time.Unix(int64(r.stored.ClusterTime.T), 0).UTC().Format(time.RFC3339) + ")"
		}
	}
	r.log.Error().Err(err).
		Str("happened", "the stored resume token is no longer in the oplog/change stream history").
		Str("lost", "events between "+since+" and now may have been missed: project deletes and field renames in that window were not applied to Firestore").
		Str("fix", `either run "watcher checkpoint reset --yes", start the watcher again (it starts at resume.startAt) and run "watcher reconcile" to repair the missed changes; or set resume.onHistoryLost: reconcile`).
		Msg("change stream history lost; the watcher stops and will not restart from now by itself")
	return err
}
