package lease

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/watchertest"
)

// TestTermRenewsUntilReleased: a leader whose run was asked to stop (the
// parent context ended: SIGTERM) keeps renewing while it drains, so no
// standby takes over while it still writes; Release hands the lease over.
func TestTermRenewsUntilReleased(t *testing.T) {
	ctx := watchertest.Context(t, 30*time.Second)
	coll, _ := leaseColl(t)
	const ttl = 600 * time.Millisecond
	a := newTestLease(t, coll, "a", ttl, nil)
	b := newTestLease(t, coll, "b", ttl, nil)
	parent, stop := context.WithCancel(ctx)
	term, err := a.Acquire(parent)
	if err != nil {
		t.Fatal(err)
	}
	stop() // the run is asked to stop; its drain takes a while
	if term.Context().Err() == nil {
		t.Fatal("the term's context must end with its parent (reading stops)")
	}
	time.Sleep(3 * ttl) // a drain longer than the ttl
	if err := term.Err(); err != nil {
		t.Fatalf("the lease was lost while draining: %v", err)
	}
	if err := term.Allow(); err != nil { // each renewal moved the deadline
		t.Fatalf("the draining leader may not write: %v", err)
	}
	if _, ok, held, err := b.TryAcquire(ctx); err != nil || ok {
		t.Fatalf("the standby took the lease (%v, held by %+v) while the leader drained", err, held)
	}
	if err := term.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := term.Allow(); !errors.Is(err, ErrLost) {
		t.Fatalf("a released term allows writes: %v", err)
	}
	if _, ok, _, err := b.TryAcquire(ctx); err != nil || !ok {
		t.Fatalf("after Release the standby cannot take the lease: %v %v", ok, err)
	}
}
