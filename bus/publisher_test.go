package bus_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/projectwatcher/watcher/bus"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/pubsubtest"
	"github.com/projectwatcher/watcher/internal/tcpproxy"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// streamEvent is the n-th event of project pid, as the stream derives it.
func streamEvent(t *testing.T, pid string, n int) event.Event {
	t.Helper()
	tok, err := bson.Marshal(bson.D{{Key: "_data", Value: fmt.Sprintf("%s-%03d", pid, n)}})
	if err != nil {
		t.Fatal(err)
	}
	typ, id, err := bson.MarshalValue(pid)
	if err != nil {
		t.Fatal(err)
	}
	return event.Event{Kind: event.ProjectUpdated, ProjectID: pid, DocumentID: bson.RawValue{Type: typ, Value: id},
		Op: "update", Set: map[string]any{"name": fmt.Sprintf("%s v%d", pid, n)}, Token: tok,
		ClusterTime: bson.Timestamp{T: uint32(1700000000 + n), I: 1}, WallTime: time.UnixMilli(1700000000000 + int64(n)).UTC()}
}

// receive collects the messages of the subscription until want arrived
// (or the timeout), acknowledging them; it returns the event ids per
// project in arrival order.
func receive(t *testing.T, c *pubsub.Client, sub string, want int, timeout time.Duration) map[string][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var mu sync.Mutex
	got := map[string][]string{}
	n := 0
	err := c.Subscriber(sub).Receive(ctx, func(_ context.Context, m *pubsub.Message) {
		msg, err := bus.Decode(m.Data)
		if err != nil {
			t.Errorf("message %s: %v", m.ID, err)
			m.Ack()
			return
		}
		if m.OrderingKey != msg.Event.ProjectID || m.Attributes[bus.AttrType] != msg.Event.Kind.String() {
			t.Errorf("message %s: ordering key %q, attributes %v", m.ID, m.OrderingKey, m.Attributes)
		}
		mu.Lock()
		got[msg.Event.ProjectID] = append(got[msg.Event.ProjectID], msg.ID)
		n++
		if n >= want {
			cancel()
		}
		mu.Unlock()
		m.Ack()
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func newPublisher(c *pubsub.Client, cfg string, timeout time.Duration) *bus.Publisher {
	return bus.NewPublisher(c, cfg, bus.PublisherOptions{Logger: zerolog.Nop(), Timeout: timeout})
}

// Apply returns once Pub/Sub acknowledged the message: every event applied
// is on the subscription, each project's in the order applied.
func TestPublisherPublishesInOrderPerProject(t *testing.T) {
	project := pubsubtest.Project(t)
	c := pubsubtest.Client(t, project)
	cfg := pubsubtest.Bus(project)
	pubsubtest.Setup(t, c, project, cfg)
	p := newPublisher(c, cfg.Topic, 0)
	defer p.Stop()
	want := map[string][]string{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, pid := range []string{"alpha", "beta", "gamma"} {
		wg.Add(1)
		go func() { // projects in parallel, each in order: as the dispatcher does
			defer wg.Done()
			for n := range 5 {
				ev := streamEvent(t, pid, n)
				if _, err := p.Apply(context.Background(), ev); err != nil {
					t.Error(err)
				}
				mu.Lock()
				want[pid] = append(want[pid], bus.EventID(ev.Token))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got := receive(t, c, cfg.Subscription, 15, 30*time.Second)
	for pid, ids := range want {
		if !slices.Equal(got[pid], ids) {
			t.Errorf("project %s: received %v, published %v", pid, got[pid], ids)
		}
	}
}

// A publish that Pub/Sub does not answer (the connection blackholed) is a
// transient failure of the bus: no attempt is counted while Pub/Sub
// answers nothing, readiness says so, and once Pub/Sub is back the same
// event publishes (the client resumed the paused ordering key) and the
// project's next one follows it.
func TestPublisherOutageResumesTheProjectInOrder(t *testing.T) {
	project := pubsubtest.Project(t)
	host := pubsubtest.RequireEmulator(t)
	admin := pubsubtest.Client(t, project)
	cfg := pubsubtest.Bus(project)
	pubsubtest.Setup(t, admin, project, cfg)
	proxy, err := tcpproxy.Start(host)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	p := newPublisher(pubsubtest.ClientVia(t, project, proxy.Addr()), cfg.Topic, 2*time.Second)
	defer p.Stop()
	ctx := context.Background()
	ev1, ev2, ev3 := streamEvent(t, "p", 1), streamEvent(t, "p", 2), streamEvent(t, "p", 3)
	if _, err := p.Apply(ctx, ev1); err != nil {
		t.Fatal(err)
	}

	proxy.Blackhole()
	before := time.Now()
	_, err = p.Apply(ctx, ev2)
	var pe *bus.PublishError
	if !errors.As(err, &pe) || !watcher.IsTransient(fmt.Errorf("apply: %w", err)) {
		t.Fatalf("publish during the outage: %v (%T), want a transient *bus.PublishError", err, err)
	}
	if p.Answering(err, before) {
		t.Error("Answering: true while Pub/Sub acknowledged nothing (the attempt would count)")
	}
	if !p.Answering(errors.New("a Firestore failure"), before) {
		t.Error("Answering: false for a failure that is not the bus's")
	}
	if p.Ready(ctx) == nil {
		t.Error("Ready: nil while publishing fails")
	}

	proxy.Restore()
	if _, err := p.Apply(ctx, ev2); err != nil {
		t.Fatalf("publish again after the outage: %v (the ordering key stayed paused?)", err)
	}
	if _, err := p.Apply(ctx, ev3); err != nil {
		t.Fatal(err)
	}
	if err := p.Ready(ctx); err != nil {
		t.Errorf("Ready after a publish went through: %v", err)
	}
	got := receive(t, admin, cfg.Subscription, 3, 30*time.Second)["p"]
	var first []string
	for _, id := range got {
		if !slices.Contains(first, id) {
			first = append(first, id)
		}
	}
	want := []string{bus.EventID(ev1.Token), bus.EventID(ev2.Token), bus.EventID(ev3.Token)}
	if !slices.Equal(first[:min(len(first), 3)], want) {
		t.Errorf("received %v (first deliveries %v), want %v in that order", got, first, want)
	}
}

// An event without a resume token is a repair (reconciliation): it is
// applied directly, never published.
func TestPublisherAppliesRepairsDirectly(t *testing.T) {
	project := pubsubtest.Project(t)
	c := pubsubtest.Client(t, project)
	direct := &recordingApplier{}
	p := bus.NewPublisher(c, "no-such-topic", bus.PublisherOptions{Direct: direct, Logger: zerolog.Nop()})
	defer p.Stop()
	ev := streamEvent(t, "r", 1)
	ev.Token = nil
	if _, err := p.Apply(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if len(direct.applied()) != 1 {
		t.Fatalf("direct applier got %v", direct.applied())
	}
}

type recordingApplier struct {
	mu     sync.Mutex
	events []event.Event
	err    func(event.Event) error
}

func (a *recordingApplier) Apply(_ context.Context, ev event.Event) (event.Report, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, ev)
	if a.err != nil {
		return event.Report{}, a.err(ev)
	}
	return event.Report{}, nil
}

func (a *recordingApplier) applied() []event.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.events)
}
