package lease

import (
	"context"
	"errors"
	"time"
)

// Role is what an instance does under leader election.
type Role string

// Roles.
const (
	RoleStandby Role = "standby"
	RoleLeader  Role = "leader"
)

// RoleFunc is told every role change (epoch is 0 for a standby).
type RoleFunc func(role Role, epoch int64)

// Lead runs work once per term this instance leads: it waits as a standby
// until it takes the lease, runs work(term), and releases the lease when
// work returns. work must stop as soon as term.Context() ends and stop
// writing at once when term.Lost() is closed.
//
// After a lost lease Lead steps down and goes back to standby in the same
// process (it never keeps processing). It returns nil when ctx ends, or
// work's error when work failed while the lease was still held.
func (l *Lease) Lead(ctx context.Context, onRole RoleFunc, work func(t *Term) error) error {
	report := func(Role, int64) {}
	if onRole != nil {
		var last Role
		report = func(r Role, epoch int64) {
			if r != last {
				last = r
				onRole(r, epoch)
			}
		}
	}
	for {
		report(RoleStandby, 0)
		term, err := l.Acquire(ctx)
		if err != nil {
			return nil // ctx ended while standing by
		}
		report(RoleLeader, term.Epoch())
		workErr := work(term)
		lost := term.Err()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		relErr := term.Release(rctx)
		cancel()
		if relErr != nil {
			l.log.Warn().Err(relErr).Msg("could not release the lease; the standby takes it when it expires")
		}
		report(RoleStandby, 0)
		if lost != nil {
			if workErr != nil {
				l.log.Warn().Err(workErr).Msg("the term's work ended with an error after the lease was lost")
			}
			if ctx.Err() != nil {
				return nil
			}
			l.log.Warn().Int64("epoch", term.Epoch()).Int64("waitMs", l.stepDownWait.Milliseconds()).
				Msg("stepped down; back to standby after a pause that lets the other instances take the lease first")
			t := time.NewTimer(l.stepDownWait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			continue
		}
		if workErr != nil {
			return workErr
		}
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("lease: the leader's work stopped without an error while the lease was held")
	}
}
