package watcher

import (
	"errors"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/event"
)

const (
	// streamReopenAttempts is the least number of reopen attempts after a
	// transient read error (more when retry.maxAttempts says so).
	streamReopenAttempts = 5
	// streamReopenBackoff is the wait before a reopen when no retry policy
	// is configured.
	streamReopenBackoff = 250 * time.Millisecond
)

// reopenStream handles a transient error reading the change stream (the
// driver's own single resume failed too, e.g. because a dropped connection
// cleared the pool): it reopens the stream after the last change read, so
// nothing is skipped and nothing is read twice, waiting between attempts as
// the retry policy says. It returns nil when the stream is open again (or
// reading ended), else the error that stops the watcher. A reopen that finds
// the position gone from the history is handled as a lost history.
func (r *run) reopenStream(cause error) error {
	token := r.src.ResumeToken()
	if !IsTransient(cause) || len(token) == 0 {
		return fmt.Errorf("read change stream: %w", cause)
	}
	attempts := max(r.o.Retry.Attempts(), streamReopenAttempts)
	err := cause
	for attempt := 1; attempt <= attempts; attempt++ {
		delay := r.o.Retry.Delay(attempt)
		if delay <= 0 {
			delay = streamReopenBackoff
		}
		r.log.Warn().Err(err).Int("attempt", attempt).Float64("delayMs", float64(delay.Microseconds())/1000).
			Msg("reading the change stream failed; reopening it after the last change read")
		t := time.NewTimer(delay)
		select {
		case <-r.readCtx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if err = r.src.Open(r.readCtx, token); err == nil {
			r.log.Info().Int("attempt", attempt).Msg("change stream reopened")
			r.streamUp(true)
			return nil
		}
		if r.readCtx.Err() != nil {
			return nil
		}
		if errors.Is(err, event.ErrHistoryLost) {
			return r.historyLost(err)
		}
		if !IsTransient(err) {
			break
		}
	}
	return fmt.Errorf("read change stream (reopening it failed: %w): %w", err, cause)
}
