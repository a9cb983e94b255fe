package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/lease"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/projectwatcher/watcher/watcher"
)

// state is what /readyz, /status and the reconciliation's repairs read
// about the running instance: its role and epoch, the watcher of the
// current run, and the last error.
type state struct {
	lm  *metrics.Leadership
	cur atomic.Pointer[watcher.Watcher] // nil while standing by or between runs

	mu        sync.Mutex
	role      lease.Role
	epoch     int64
	lastErr   error
	lastErrAt time.Time
}

func newState(lm *metrics.Leadership) *state { return &state{lm: lm} }

// setRole records a role change (a lease.RoleFunc).
func (s *state) setRole(r lease.Role, epoch int64) {
	s.mu.Lock()
	s.role, s.epoch = r, epoch
	s.mu.Unlock()
	s.lm.SetRole(r, epoch)
}

// Role is the current role and epoch.
func (s *state) Role() (lease.Role, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.role, s.epoch
}

// roleName is the /readyz role line.
func (s *state) roleName() string {
	r, _ := s.Role()
	return string(r)
}

// streamErr is the changeStream readiness check: a standby is ready
// without a stream (it is ready to take over).
func (s *state) streamErr(ctx context.Context) error {
	if r, _ := s.Role(); r == lease.RoleStandby {
		return nil
	}
	w := s.cur.Load()
	if w == nil {
		return errors.New("the change stream is not open")
	}
	return w.StreamErr(ctx)
}

// current is the running watcher (nil while standing by).
func (s *state) current() *watcher.Watcher { return s.cur.Load() }

// progress is the running watcher's progress, for the stall watchdog.
func (s *state) progress() (int, time.Time) {
	if w := s.current(); w != nil {
		return w.Progress()
	}
	return 0, time.Time{}
}

func (s *state) recordError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr, s.lastErrAt = err, time.Now()
}

// lastError is the last error seen and when: a failed apply, watcher stop
// or lost lease, a failed start-up check, Firestore failing. It stays after
// the cause is gone (the current errors are elsewhere).
func (s *state) lastError() (error, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr, s.lastErrAt
}

// errorRecorder remembers the last failed apply for /status.
type errorRecorder struct{ s *state }

func (errorRecorder) Heartbeat()                {}
func (errorRecorder) StreamOpen(bool)           {}
func (errorRecorder) ChangeReceived(string)     {}
func (errorRecorder) CheckpointSaved(time.Time) {}
func (r errorRecorder) EventApplied(kind event.Kind, projectID string, _ time.Duration, _ time.Time, _ event.Report, err error) {
	if err == nil {
		return
	}
	if projectID == "" {
		projectID = "(no valid project id)"
	}
	r.s.recordError(fmt.Errorf("%s %s: %w", kind, projectID, err))
}

// lag is the current watcher's lag (the age of the oldest pending change);
// false while none runs (a standby).
func (s *state) lag() (time.Duration, bool) {
	if w := s.current(); w != nil {
		return w.Lag(), true
	}
	return 0, false
}
