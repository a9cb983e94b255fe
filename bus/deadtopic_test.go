package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/bus"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/internal/pubsubtest"
)

// ON THE IN-PROCESS FAKE (pstest), not the emulator: the Pub/Sub emulator
// does not forward to dead-letter topics (once a message has been
// delivered maxDeliveryAttempts times it breaks the stream with an Unknown
// error instead). An event whose worker stops (or crashes) before
// answering it bus.maxDeliveryAttempts times goes to the dead-letter
// topic; a worker moves it into the dead-letter collection, where
// "watcher dlq list|retry" find it like direct mode's dead letters.
func TestPstestEventThatKeepsFailingReachesTheDeadLetterCollection(t *testing.T) {
	project := pubsubtest.Project(t)
	ps, _ := pubsubtest.Fake(t, project)
	w := newWorldOn(t, project, ps)
	pid := w.addProject("p", 1)
	w.remove(pid)
	ev := w.event(pid, "")
	w.publish(ev)
	// A crash loop: every delivery ends unanswered (the worker stops and
	// nacks). A delivery made while a worker stops is nacked at once, so
	// fewer than maxDeliveryAttempts applies may start.
	obs := newOutcomes()
	starts := 0
	for round := 0; obs.count("moved") == 0; round++ {
		if round > 3*w.cfg.MaxDeliveryAttempts {
			t.Fatalf("after %d rounds (%d applies started) the event has not reached the dead-letter collection", round, starts)
		}
		began := time.Now()
		started := make(chan struct{}, 1)
		stop := w.run(w.options(&blockingApplier{started: started}, obs))
		ready := time.Since(began)
		if startedOrMoved(started, obs, 5*time.Second) {
			starts++
		}
		stop()
		t.Logf("round %d: ready after %v, over after %v", round, ready, time.Since(began))
	}
	if starts == 0 || starts > w.cfg.MaxDeliveryAttempts {
		t.Errorf("%d applies started, want 1 to %d", starts, w.cfg.MaxDeliveryAttempts)
	}
	// pstest forwards the message again on every delivery pass (it fails to
	// drop a nacked message it forwarded): moving is idempotent, one dead
	// letter per event id.
	healthy := &recordingApplier{}
	w.run(w.options(healthy, obs))
	time.Sleep(time.Second)
	if n, err := w.dead.Count(context.Background()); err != nil || n != 1 {
		t.Errorf("%d dead letters (%v), want 1", n, err)
	}
	l, err := w.dead.Get(context.Background(), bus.EventID(ev.Token))
	if err != nil {
		t.Fatal(err)
	}
	if l.Reason != bus.ReasonDeliveryAttempts || l.Attempts != w.cfg.MaxDeliveryAttempts || l.ProjectID != pid {
		t.Errorf("dead letter %+v", l)
	}
	if got, err := deadletter.Event(l); err != nil || got.ProjectID != pid || got.DocumentID.Type == 0 {
		t.Errorf("dlq retry could not rebuild the event: %+v, %v", got, err)
	}
	if n := len(healthy.applied()); n != 0 {
		t.Errorf("the healthy worker applied the event %d times; Pub/Sub had dead-lettered it", n)
	}
}

// startedOrMoved waits until an apply starts (true) or a dead letter was
// moved or the timeout passed (false).
func startedOrMoved(started <-chan struct{}, obs *outcomes, timeout time.Duration) bool {
	deadline := time.After(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-started:
			return true
		case <-deadline:
			return false
		case <-tick.C:
			if obs.count("moved") > 0 {
				return false
			}
		}
	}
}
