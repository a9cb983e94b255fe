package watcher

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/watchertest"
)

// repairs is an OnHistoryLost whose calls each wait until the test
// releases them (nil) or their context ends (its error).
type repairs struct {
	mu       sync.Mutex
	started  int
	begun    []chan struct{} // closed when call i starts
	release  []chan struct{}
	returned chan error
}

func newRepairs(n int) *repairs {
	r := &repairs{returned: make(chan error, n)}
	for range n {
		r.begun = append(r.begun, make(chan struct{}))
		r.release = append(r.release, make(chan struct{}))
	}
	return r
}

func (r *repairs) run(ctx context.Context) error {
	r.mu.Lock()
	i := r.started
	r.started++
	r.mu.Unlock()
	close(r.begun[i])
	var err error
	select {
	case <-r.release[i]:
	case <-ctx.Done():
		err = ctx.Err()
	}
	r.returned <- err
	return err
}

func (r *repairs) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started
}

// TestRunSecondHistoryLossKeepsCheckpointsHeld: the history is lost, then
// lost again while the first repair runs. The end of the first repair must
// not release the checkpoints: the second gap is repaired only by the
// second repair. A stop before it finished stores no checkpoint at all, so
// the next start repairs again.
func TestRunSecondHistoryLossKeepsCheckpointsHeld(t *testing.T) {
	for _, secondFinishes := range []bool{false, true} {
		name := "second repair still running at stop"
		if secondFinishes {
			name = "second repair finished"
		}
		t.Run(name, func(t *testing.T) {
			rep := newRepairs(2)
			ended := make(chan struct{})
			src := &scriptSource{
				script: []srcStep{{err: historyLostErr()}, chDelete("t1", "p1"),
					{err: historyLostErr(), before: func() { <-rep.begun[0] }}, chDelete("t2", "p2")},
				end: func() { close(ended) },
			}
			f := newRunFixture(t, src, func(o *Options) { o.OnHistoryLost = rep.run })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- f.w.Run(ctx) }()

			<-ended
			watchertest.WaitFor(t, "both repairs started and p2 applied", func() bool { return rep.count() == 2 && len(f.ap.get("p2")) == 1 })
			close(rep.release[0]) // the first repair ends (if it still runs)
			if err := <-rep.returned; err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("first repair: %v", err)
			}
			if secondFinishes {
				close(rep.release[1])
				if err := <-rep.returned; err != nil {
					t.Fatalf("second repair: %v", err)
				}
				watchertest.WaitFor(t, "a checkpoint after the second repair", func() bool { return f.savedToken() == "t2" })
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run = %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Run did not return")
			}
			if got := f.savedToken(); secondFinishes != (got == "t2") || !secondFinishes && got != "" {
				t.Fatalf("saved %q with the second repair finished=%v: want t2 only once the repair of the latest loss succeeded", got, secondFinishes)
			}
		})
	}
}
