package metrics

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/projectwatcher/watcher/event"
)

type stepCounter struct {
	mu    sync.Mutex
	n     int64
	err   error
	calls int
}

func (c *stepCounter) Count(context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return c.n, c.err
}

func (c *stepCounter) set(n int64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.err = n, err
}

func (c *stepCounter) callCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func TestFailuresCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	f, err := NewFailures(reg)
	if err != nil {
		t.Fatal(err)
	}
	f.EventRetried(event.ProjectDeleted, 1, time.Second, errors.New("x"))
	f.EventRetried(event.ProjectDeleted, 2, time.Second, errors.New("x"))
	f.EventRetried(event.ProjectUpdated, 1, time.Second, errors.New("x"))
	f.EventDeadLettered(event.ProjectUpdated, event.ReasonSafetyLimit)
	want := `
# HELP watcher_retries_total Retries of events after a transient failure, by event type.
# TYPE watcher_retries_total counter
watcher_retries_total{type="ProjectDeleted"} 2
watcher_retries_total{type="ProjectUpdated"} 1
# HELP watcher_dead_lettered_total Events written to the dead-letter collection by this process, by reason.
# TYPE watcher_dead_lettered_total counter
watcher_dead_lettered_total{reason="apply-failed"} 0
watcher_dead_lettered_total{reason="invalid-id"} 0
watcher_dead_lettered_total{reason="retries-exhausted"} 0
watcher_dead_lettered_total{reason="safety-limit"} 1
# HELP watcher_dead_letters Dead letters in the dead-letter collection (all of them, not only this process's); -1 before the first count.
# TYPE watcher_dead_letters gauge
watcher_dead_letters -1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFailures(reg); err == nil {
		t.Fatal("registering twice must fail")
	}
}

// The gauge follows the collection: counted at start and again right after
// a dead letter (no waiting for the interval).
func TestFailuresRefreshesTheGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	f, err := NewFailures(reg)
	if err != nil {
		t.Fatal(err)
	}
	c := &stepCounter{n: 4}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var errs []error
	var mu sync.Mutex
	go func() {
		defer close(done)
		f.Run(ctx, c, time.Hour, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	}()
	eventually(t, func() bool { return testutil.ToFloat64(f.letters) == 4 })
	c.set(5, nil)
	f.EventDeadLettered(event.ProjectDeleted, event.ReasonApplyFailed)
	eventually(t, func() bool { return testutil.ToFloat64(f.letters) == 5 })
	calls := c.callCount()
	c.set(0, errors.New("mongo down"))
	f.EventDeadLettered(event.ProjectDeleted, event.ReasonApplyFailed)
	eventually(t, func() bool { return c.callCount() > calls })
	cancel()
	<-done
	if got := testutil.ToFloat64(f.letters); got != 5 {
		t.Fatalf("after a failed count the gauge is %v, want the last value 5", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 1 {
		t.Fatalf("onErr called %d times, want 1", len(errs))
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(time.Millisecond)
	}
}
