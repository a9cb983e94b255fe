package watcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func delEvent(id string) event.Event { return event.Event{Kind: event.ProjectDeleted, ProjectID: id} }

func TestDispatcherKeepsProjectOrder(t *testing.T) {
	ap := &recApplier{}
	obs := &recObserver{}
	ck := newWatermark(nil)
	d := newDispatcher(ap, ck, obs, zerolog.Nop(), 4, 3)
	d.Start(context.Background())
	projects := []string{"a", "b", "c", "d", "e"}
	const perProject = 40
	ctx := context.Background()
	for i := 0; i < perProject; i++ {
		for _, p := range projects {
			seq := ck.Track(watchertest.Token(fmt.Sprint(p, i)), bson.Timestamp{})
			ev := event.Event{Kind: event.ProjectUpdated, ProjectID: p, Set: map[string]any{"name": i}}
			if err := d.Dispatch(ctx, seq, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	d.Close()
	for _, p := range projects {
		got := ap.get(p)
		if len(got) != perProject {
			t.Fatalf("project %s: %d applies, want %d", p, len(got), perProject)
		}
		for i, g := range got {
			if want := fmt.Sprintf("update:%d:[]", i); g != want {
				t.Fatalf("project %s apply %d = %q, want %q (stream order)", p, i, g, want)
			}
		}
	}
	if cp, _ := ck.Position(); tokName(cp.Token) != fmt.Sprint("e", perProject-1) {
		t.Fatalf("watermark %q, want the last event's token", tokName(cp.Token))
	}
	if n := obs.count("applied:ProjectUpdated"); n != perProject*len(projects) {
		t.Fatalf("EventApplied %d times, want %d", n, perProject*len(projects))
	}
}

func TestDispatcherProjectsRunInParallel(t *testing.T) {
	slow, fast := "slow", "fast"
	release := make(chan struct{})
	ap := &recApplier{hook: func(ctx context.Context, id string) error {
		if id == slow {
			<-release
		}
		return nil
	}}
	ck := newWatermark(nil)
	d := newDispatcher(ap, ck, nil, zerolog.Nop(), 2, 4)
	d.Start(context.Background())
	ctx := context.Background()
	s1 := ck.Track(watchertest.Token("slow"), bson.Timestamp{})
	s2 := ck.Track(watchertest.Token("fast"), bson.Timestamp{})
	if err := d.Dispatch(ctx, s1, delEvent(slow)); err != nil {
		t.Fatal(err)
	}
	if err := d.Dispatch(ctx, s2, delEvent(fast)); err != nil {
		t.Fatal(err)
	}
	// The fast project completes while the slow one is still blocked.
	deadline := time.Now().Add(10 * time.Second)
	for len(ap.get(fast)) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if len(ap.get(fast)) != 1 {
		t.Fatal("a blocked project held up another project's worker")
	}
	if _, ok := ck.Position(); ok {
		t.Fatal("watermark advanced past an event still being applied")
	}
	close(release)
	d.Close()
	if cp, _ := ck.Position(); tokName(cp.Token) != "fast" {
		t.Fatalf("watermark %q, want fast", tokName(cp.Token))
	}
}

func TestDispatcherBackpressure(t *testing.T) {
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	ap := &recApplier{hook: func(ctx context.Context, id string) error {
		started <- struct{}{}
		<-release
		return nil
	}}
	ck := newWatermark(nil)
	const queue = 2
	d := newDispatcher(ap, ck, nil, zerolog.Nop(), 1, queue)
	d.Start(context.Background())
	ctx := context.Background()
	if err := d.Dispatch(ctx, ck.Track(watchertest.Token("0"), bson.Timestamp{}), delEvent("p")); err != nil {
		t.Fatal(err)
	}
	<-started // the worker holds event 0; the queue is empty
	for i := 1; i <= queue; i++ {
		if err := d.Dispatch(ctx, ck.Track(watchertest.Token(fmt.Sprint(i)), bson.Timestamp{}), delEvent("p")); err != nil {
			t.Fatal(err)
		}
	}
	// The queue is full: Dispatch blocks until its context ends.
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		errc <- d.Dispatch(cctx, ck.Track(watchertest.Token("blocked"), bson.Timestamp{}), delEvent("p"))
	}()
	select {
	case err := <-errc:
		t.Fatalf("Dispatch on a full queue returned %v instead of blocking", err)
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Dispatch after cancel = %v, want context.Canceled", err)
	}
	close(release)
	d.Close()
	if got := len(ap.get("p")); got != 1+queue {
		t.Fatalf("applied %d events, want %d (queued ones drain, the refused one is not applied)", got, 1+queue)
	}
	if cp, _ := ck.Position(); tokName(cp.Token) != fmt.Sprint(queue) {
		t.Fatalf("watermark %q, want %d (the refused event stays in flight)", tokName(cp.Token), queue)
	}
	if ck.InFlight() != 1 {
		t.Fatalf("InFlight = %d, want 1", ck.InFlight())
	}
}

func TestDispatcherFailureHoldsWatermark(t *testing.T) {
	boom := errors.New("firestore unavailable")
	ap := &recApplier{hook: func(ctx context.Context, id string) error {
		if id == "bad" {
			return boom
		}
		return nil
	}}
	obs := &recObserver{}
	ck := newWatermark(nil)
	d := newDispatcher(ap, ck, obs, zerolog.Nop(), 2, 4)
	d.Start(context.Background())
	ctx := context.Background()
	for _, id := range []string{"ok1", "bad", "ok2"} {
		if err := d.Dispatch(ctx, ck.Track(watchertest.Token(id), bson.Timestamp{}), delEvent(id)); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	if !errors.Is(ck.Err(), boom) {
		t.Fatalf("checkpointer Err = %v, want the apply error", ck.Err())
	}
	if cp, _ := ck.Position(); tokName(cp.Token) != "ok1" {
		t.Fatalf("watermark %q, want ok1 (before the failed event)", tokName(cp.Token))
	}
	var failures int
	for _, err := range obs.applied {
		if errors.Is(err, boom) {
			failures++
		}
	}
	if failures != 1 || len(obs.applied) != 3 {
		t.Fatalf("observer saw %v, want 3 events with 1 failure", obs.applied)
	}
}

func TestDispatcherUnknownKindFails(t *testing.T) {
	ck := newWatermark(nil)
	d := newDispatcher(&recApplier{}, ck, nil, zerolog.Nop(), 1, 1)
	d.Start(context.Background())
	if err := d.Dispatch(context.Background(), ck.Track(watchertest.Token("x"), bson.Timestamp{}), event.Event{ProjectID: "p"}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if !errors.Is(ck.Err(), errUnknownKind) {
		t.Fatalf("Err = %v, want errUnknownKind", ck.Err())
	}
}

func TestDispatcherLogsAppliedEvent(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf).Level(zerolog.DebugLevel)
	ck := newWatermark(nil)
	d := newDispatcher(&recApplier{}, ck, nil, log, 1, 1)
	d.Start(context.Background())
	ev := event.Event{Kind: event.ProjectDeleted, ProjectID: "p1", Op: "delete", Token: watchertest.Token("t1")}
	if err := d.Dispatch(context.Background(), ck.Track(ev.Token, bson.Timestamp{}), ev); err != nil {
		t.Fatal(err)
	}
	d.Close()
	dec := json.NewDecoder(&buf)
	var info, debug map[string]any
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		switch m["level"] {
		case "info":
			info = m
		case "debug":
			debug = m
		}
	}
	if info == nil || info["projectId"] != "p1" || info["kind"] != "ProjectDeleted" || info["op"] != "delete" {
		t.Fatalf("info line %v: want projectId, kind and op", info)
	}
	if _, ok := info["durationMs"]; !ok {
		t.Fatalf("info line %v has no durationMs", info)
	}
	colls, _ := info["collections"].([]any)
	if len(colls) != 1 || colls[0].(map[string]any)["deleted"] != float64(2) {
		t.Fatalf("info line collections %v, want the per-collection counts", info["collections"])
	}
	if _, ok := info["token"]; ok {
		t.Fatal("the token belongs at debug level, not in the info line")
	}
	if debug == nil || debug["token"] != "t1" {
		t.Fatalf("debug line %v: want the token", debug)
	}
}

// TestDispatcherLongEventHoldsNoOtherProject: one project's long event
// (a giant cleanup) occupies one worker; every other project's events are
// applied meanwhile by the other workers, whatever their ids.
func TestDispatcherLongEventHoldsNoOtherProject(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	ap := &recApplier{hook: func(ctx context.Context, id string) error {
		if id == "giant" {
			<-release
		}
		return nil
	}}
	ck := newWatermark(nil)
	d := newDispatcher(ap, ck, nil, zerolog.Nop(), 4, 16)
	d.Start(context.Background())
	ctx := context.Background()
	if err := d.Dispatch(ctx, ck.Track(watchertest.Token("giant"), bson.Timestamp{}), delEvent("giant")); err != nil {
		t.Fatal(err)
	}
	const others = 200
	dispatched := make(chan error, 1)
	go func() { // a partition by hash blocks here, behind the giant cleanup
		for i := range others {
			id := fmt.Sprintf("p%d", i)
			if err := d.Dispatch(ctx, ck.Track(watchertest.Token(id), bson.Timestamp{}), delEvent(id)); err != nil {
				dispatched <- err
				return
			}
		}
		dispatched <- nil
	}()
	watchertest.WaitFor(t, "every other project applied while the giant cleanup runs", func() bool {
		n := 0
		for i := range others {
			n += len(ap.get(fmt.Sprintf("p%d", i)))
		}
		return n == others
	})
	if err := <-dispatched; err != nil {
		t.Fatal(err)
	}
	if len(ap.get("giant")) != 0 {
		t.Fatal("the giant cleanup finished early: the test proves nothing")
	}
	watchertest.WaitFor(t, "the dispatcher to hold only the giant cleanup", func() bool { events, _ := d.Pending(); return events == 1 })
	unblock()
	d.Close()
	if ck.InFlight() != 0 {
		t.Fatalf("InFlight = %d after Close, want 0", ck.InFlight())
	}
}

// TestApplyNowRunsInProjectOrder: a repair handed to a running dispatcher
// waits for the project's queued events, runs once, reports its outcome
// and is not tracked; after Close it is refused, never a panic.
func TestApplyNowRunsInProjectOrder(t *testing.T) {
	release := make(chan struct{})
	ap := &recApplier{hook: func(ctx context.Context, id string) error {
		if id == "p1" && len(release) == 0 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil
	}}
	ck := newWatermark(nil)
	d := newDispatcher(ap, ck, nil, zerolog.Nop(), 2, 4)
	d.Start(context.Background())
	ctx := context.Background()
	if err := d.Dispatch(ctx, ck.Track(watchertest.Token("e1"), bson.Timestamp{}), delEvent("p1")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := d.ApplyNow(ctx, event.Event{Kind: event.ProjectUpdated, ProjectID: "p1", Set: map[string]any{"name": "repair"}})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the repair ran (%v) before the project's queued event", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ap.get("p1")); got != "[delete update:repair:[]]" {
		t.Fatalf("applied %s, want the event then the repair", got)
	}
	if cp, _ := ck.Position(); tokName(cp.Token) != "e1" || ck.InFlight() != 0 {
		t.Fatalf("watermark %q with %d in flight: the repair must not be tracked", tokName(cp.Token), ck.InFlight())
	}
	d.Close()
	if _, err := d.ApplyNow(ctx, delEvent("p2")); !errors.Is(err, errClosing) {
		t.Fatalf("ApplyNow after Close = %v, want errClosing", err)
	}
}
