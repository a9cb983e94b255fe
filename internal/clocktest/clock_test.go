package clocktest

import (
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/clock"
)

var (
	_ clock.Clock = (*Clock)(nil)
	_ clock.Clock = (*Auto)(nil)
)

func TestClockFiresTimersWhenMovedPastThem(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New(t0)
	a, b := c.After(time.Second), c.After(3*time.Second)
	<-c.Armed()
	<-c.Armed()
	c.Add(2 * time.Second)
	select {
	case at := <-a:
		if !at.Equal(t0.Add(2 * time.Second)) {
			t.Fatalf("fired at %v", at)
		}
	default:
		t.Fatal("the 1 s timer did not fire after 2 s")
	}
	select {
	case <-b:
		t.Fatal("the 3 s timer fired after 2 s")
	default:
	}
	c.FireAll()
	if at := <-b; !at.Equal(t0.Add(3*time.Second)) || !c.Now().Equal(at) {
		t.Fatalf("FireAll: fired at %v, now %v", at, c.Now())
	}
	if got := c.Delays(); len(got) != 2 || got[0] != time.Second || got[1] != 3*time.Second {
		t.Fatalf("Delays = %v", got)
	}
}

func TestAutoMovesByTheWait(t *testing.T) {
	c := NewAuto(time.Unix(1000, 0))
	if at := <-c.After(5 * time.Second); !at.Equal(time.Unix(1005, 0)) || !c.Now().Equal(at) {
		t.Fatalf("After(5s) fired at %v, now %v", at, c.Now())
	}
}
