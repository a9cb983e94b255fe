package lease

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestAllowEndsAPausedTermAtOnce: a process paused past its deadline and
// resumed is refused at its first write, and the term is lost by the time
// Allow returns, before the renewer's timer has had a chance to run (here
// it never runs: the term has no renewer).
func TestAllowEndsAPausedTermAtOnce(t *testing.T) {
	l := &Lease{ttl: time.Second, skew: 200 * time.Millisecond, log: zerolog.New(zerolog.NewTestWriter(t))}
	fresh := l.newTerm(context.Background(), 3, time.Now())
	if err := fresh.Allow(); err != nil {
		t.Fatalf("a term renewed just now refuses: %v", err)
	}
	paused := l.newTerm(context.Background(), 4, time.Now().Add(-l.ttl+l.skew-time.Millisecond))
	err := paused.Allow()
	if !errors.Is(err, ErrLost) {
		t.Fatalf("Allow past the deadline = %v, want ErrLost", err)
	}
	select {
	case <-paused.Lost():
	default:
		t.Fatal("Allow refused but the term is not lost")
	}
	if paused.Context().Err() == nil {
		t.Fatal("Allow refused but the term's context is not done")
	}
	if err := paused.Allow(); !errors.Is(err, ErrLost) {
		t.Fatalf("a lost term allows again: %v", err)
	}
}
