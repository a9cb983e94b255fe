package bus_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/projectwatcher/watcher/bus"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A worker applies what the leader publishes: a delete removes the
// project's assets, a rename rewrites the copies.
func TestWorkerAppliesDeletesAndRenames(t *testing.T) {
	w := newWorld(t)
	gone, kept := w.addProject("gone", 3), w.addProject("kept", 3)
	w.run(w.options(w.applier(100), nil))
	w.remove(gone)
	w.publish(w.event(gone, ""))
	w.rename(kept, "kept v2")
	w.publish(w.event(kept, "kept v2"))
	watchertest.WaitFor(t, "the delete and the rename applied", func() bool {
		names := w.names(kept)
		return len(w.names(gone)) == 0 && len(names) == 3 && names[0] == "kept v2" && names[2] == "kept v2"
	})
}

// Pub/Sub may deliver a message again after a newer one of the project was
// acknowledged. The worker copies the project's current values, so the
// old message writes nothing older.
func TestWorkerRedeliveredOlderMessageWritesNothingOlder(t *testing.T) {
	w := newWorld(t)
	pid := w.addProject("v0", 2)
	obs := newOutcomes()
	w.run(w.options(w.applier(100), obs))
	w.rename(pid, "v1")
	older := w.event(pid, "v1")
	w.publish(older)
	watchertest.WaitFor(t, "v1 applied", func() bool { return slices.Equal(w.names(pid), []any{"v1", "v1"}) })
	w.rename(pid, "v2")
	w.publish(w.event(pid, "v2"))
	watchertest.WaitFor(t, "v2 applied", func() bool { return slices.Equal(w.names(pid), []any{"v2", "v2"}) })

	w.publish(older) // the same message (same event id, values v1) once more
	watchertest.WaitFor(t, "the old message answered", func() bool { return obs.count(bus.OutcomeApplied) == 3 })
	if got := w.names(pid); !slices.Equal(got, []any{"v2", "v2"}) {
		t.Fatalf("after the old message came again: %v, want the current v2", got)
	}
}

// An event that fails for good is parked in the dead-letter collection
// under its event id, with direct mode's reason, and acknowledged; a
// message that is no event is parked as invalid-message.
func TestWorkerParksPermanentFailures(t *testing.T) {
	w := newWorld(t)
	big := w.addProject("big", 3)
	obs := newOutcomes()
	w.run(w.options(w.applier(2), obs)) // safety.maxDocsPerEvent 2
	w.remove(big)
	ev := w.event(big, "")
	w.publish(ev)
	raw := w.ps.Publisher(w.cfg.Topic)
	defer raw.Stop()
	if _, err := raw.Publish(context.Background(), &pubsub.Message{Data: []byte("not an event")}).Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	watchertest.WaitFor(t, "two dead letters", func() bool { return obs.count(bus.OutcomeDeadLettered) == 2 })
	l, err := w.dead.Get(context.Background(), bus.EventID(ev.Token))
	if err != nil {
		t.Fatal(err)
	}
	if l.Reason != event.ReasonSafetyLimit || l.ProjectID != big || l.Kind != "ProjectDeleted" {
		t.Errorf("dead letter %+v", l)
	}
	if n := len(w.names(big)); n != 3 {
		t.Errorf("%d assets left, want all 3 (the limit stops the event before it writes)", n)
	}
	letters, err := w.dead.List(context.Background())
	if err != nil || len(letters) != 2 {
		t.Fatalf("dead letters %v, %v", letters, err)
	}
	invalid := letters[0]
	if invalid.ID == l.ID {
		invalid = letters[1]
	}
	if invalid.Reason != bus.ReasonInvalidMessage || !contains(invalid.Error, "not an event") {
		t.Errorf("the invalid message's dead letter: %+v", invalid)
	}
	time.Sleep(time.Second) // acknowledged: nothing comes again
	if n := len(obs.recv); n != 2 {
		t.Errorf("%d deliveries, want 2 (both acknowledged)", n)
	}
}

// A transient failure is retried in the worker, and the project's next
// event waits for it: events of one project apply in order even when one
// of them fails for a while (a nack would let the client hand over the
// next message at once).
func TestWorkerRetriesTransientFailuresInOrder(t *testing.T) {
	w := newWorld(t)
	pid := w.addProject("p", 0)
	w.remove(pid)
	first, second := w.event(pid, ""), w.event(pid, "")
	failures := 2
	var mu sync.Mutex
	a := &recordingApplier{err: func(ev event.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if ev.ClusterTime == first.ClusterTime && failures > 0 {
			failures--
			return status.Error(codes.Unavailable, "firestore unavailable")
		}
		return nil
	}}
	obs := newOutcomes()
	w.run(w.options(a, obs))
	w.publish(first)
	w.publish(second)
	watchertest.WaitFor(t, "both applied", func() bool { return obs.count(bus.OutcomeApplied) == 2 })
	var order []uint32
	for _, ev := range a.applied() {
		order = append(order, ev.ClusterTime.I)
	}
	f, s := first.ClusterTime.I, second.ClusterTime.I
	if !slices.Equal(order, []uint32{f, f, f, s}) {
		t.Errorf("attempts in order %v, want the first event three times, then the second (%d, %d)", order, f, s)
	}
}

// An attempt that failed while its service answered nothing (an outage)
// does not count against retry.maxAttempts, as in direct mode: five
// failures with three attempts allowed, and the event is still applied,
// not dead-lettered.
func TestWorkerOutagePausesTheEventInsteadOfDeadLetteringIt(t *testing.T) {
	w := newWorld(t)
	pid := w.addProject("p", 0)
	w.remove(pid)
	ev := w.event(pid, "")
	var mu sync.Mutex
	failures := 5
	a := &recordingApplier{err: func(event.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return status.Error(codes.Unavailable, "firestore unavailable")
		}
		return nil
	}}
	obs := newOutcomes()
	o := w.options(a, obs)
	o.Dependencies = down{}
	w.run(o)
	w.publish(ev)
	watchertest.WaitFor(t, "applied", func() bool { return obs.count(bus.OutcomeApplied) == 1 })
	if n := len(a.applied()); n != 6 {
		t.Errorf("%d attempts, want 6 (5 failed during the outage, then 1)", n)
	}
	if n := obs.count(bus.OutcomeDeadLettered); n != 0 {
		t.Errorf("%d dead-lettered, want none: an outage pauses the event", n)
	}
}

// down says no service answers: every failure is an outage.
type down struct{}

func (down) Answering(error, time.Time) bool { return false }

// A worker stopped while it applies cancels the apply after the drain
// timeout and nacks the message: another worker applies it.
func TestWorkerStopHandsTheEventToAnotherWorker(t *testing.T) {
	w := newWorld(t)
	pid := w.addProject("p", 2)
	w.remove(pid)
	started := make(chan struct{}, 1)
	stuck := &blockingApplier{started: started}
	stop := w.run(w.options(stuck, nil))
	w.publish(w.event(pid, ""))
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the first worker never started the apply")
	}
	stop()
	if !stuck.cancelled() {
		t.Fatal("the stopped worker's apply was not cancelled after the drain timeout")
	}
	w.run(w.options(w.applier(100), nil))
	watchertest.WaitFor(t, "the second worker deleting the assets", func() bool { return len(w.names(pid)) == 0 })
}

// blockingApplier blocks every Apply until its context ends.
type blockingApplier struct {
	started chan struct{}
	mu      sync.Mutex
	ended   bool
}

func (b *blockingApplier) Apply(ctx context.Context, _ event.Event) (event.Report, error) {
	select {
	case b.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	b.mu.Lock()
	b.ended = true
	b.mu.Unlock()
	return event.Report{}, errors.Join(errors.New("blocked"), ctx.Err())
}

func (b *blockingApplier) cancelled() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ended
}
