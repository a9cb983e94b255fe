package watcher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// stop ends the run after follow returned followErr: it stops reading,
// lets the queued events finish (drain; an abort cancelled them), stops the
// saver and the repairs, joins every goroutine the run started, saves the
// final watermark (not after an abort: the next leader replays what was not
// saved) and closes the stream.
func (r *run) stop(followErr error) error {
	r.stopReading()
	drainErr := r.drain()
	r.stopSaving()
	r.stopRepairs()
	close(r.done)
	r.bg.Wait()
	defer r.closeStream()
	if isClosed(r.o.Abort) {
		r.log.Warn().Int("notApplied", r.mark.InFlight()).
			Msg("watcher stopped at once (leadership lost); no final checkpoint: the next leader replays what was not saved")
		return errors.Join(followErr, drainErr)
	}
	saveErr := r.finalSave()
	var applyErr error
	if err := r.mark.Err(); err != nil && drainErr == nil {
		applyErr = fmt.Errorf("an event could not be applied; the checkpoint stays before it: %w", err)
	}
	return errors.Join(applyErr, followErr, drainErr, saveErr)
}

// drain waits for the queued events, cancelling them after DrainTimeout.
func (r *run) drain() error {
	r.log.Info().Int("inFlight", r.mark.InFlight()).Msg("stopped reading the change stream; draining queued events")
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.disp.Close()
	}()
	var timeout <-chan time.Time
	if r.o.DrainTimeout > 0 {
		t := time.NewTimer(r.o.DrainTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-done:
		return nil
	case <-timeout:
		// A requested stop that keeps its promise: what is abandoned stays
		// after the checkpoint and is replayed; not an error.
		r.abandonInFlight(fmt.Sprintf("the drain took longer than shutdown.drainTimeout (%s)", r.o.DrainTimeout))
		<-done
		return nil
	case <-r.o.StopNow:
		r.abandonInFlight("a second signal asked to stop now")
		<-done
		return nil
	}
}

// abandonInFlight cancels the applies still running: their events stay
// after the checkpoint and are replayed at the next start.
func (r *run) abandonInFlight(why string) {
	events, retrying := r.disp.Pending()
	r.log.Warn().Int("events", events).Int("retrying", retrying).Str("why", why).
		Msg("stopping now: the events not yet applied are abandoned; the checkpoint is saved before them and they are replayed at the next start")
	r.cancelApply()
}

// finalSave stores the watermark once more and logs where the stream
// stopped.
func (r *run) finalSave() error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 30*time.Second)
	defer cancel()
	wrote, err := r.saver.save(ctx)
	final, _ := r.mark.Position()
	at := event.TimestampString(final.ClusterTime)
	switch {
	case r.o.DryRun:
		r.log.Info().Str("clusterTime", at).Int("notApplied", r.mark.InFlight()).
			Msg("dry run stopped; no checkpoint is stored in a dry run (the position stayed in memory)")
	case err != nil:
		r.log.Error().Err(err).Str("clusterTime", at).
			Msg("watcher stopped; the final checkpoint could not be saved (the stream resumes from the last saved one)")
		return err
	case wrote:
		r.log.Info().Str("clusterTime", at).Int("notApplied", r.mark.InFlight()).
			Msg("watcher stopped; final checkpoint saved")
	case r.saver.held():
		r.log.Warn().Str("clusterTime", at).
			Msg("watcher stopped before the repair after a lost history finished; no checkpoint saved, so the next start repairs again")
	default:
		r.log.Info().Str("clusterTime", at).Int("notApplied", r.mark.InFlight()).
			Msg("watcher stopped; the stored checkpoint is up to date")
	}
	return nil
}

// closeStream closes the stream being read and reports it closed.
func (r *run) closeStream() {
	r.closeSource(r.src)
	r.streamUp(false)
}

func (r *run) closeSource(src ChangeSource) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 5*time.Second)
	defer cancel()
	if err := src.Close(ctx); err != nil {
		r.log.Warn().Err(err).Msg("closing the change stream")
	}
}

func rawString(b bson.Raw) string {
	if len(b) == 0 {
		return "<none>"
	}
	if err := b.Validate(); err != nil {
		return fmt.Sprintf("<invalid BSON %x>", []byte(b))
	}
	return b.String()
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return c != nil
	default:
		return false
	}
}
