package watcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestRunAppliesAndCheckpoints(t *testing.T) {
	oid := bson.NewObjectID()
	src := &scriptSource{script: []srcStep{
		chDelete("t1", oid),
		{ch: &event.Change{Token: watchertest.Token("t2"), Op: "insert", DocumentKey: watchertest.DocKey("p9")}},
		chUpdate("t3", "p2", bson.D{{Key: "name", Value: "New name"}}),
		chUpdate("t4", "p3", bson.D{{Key: "other", Value: 1}}), // no copied field: nothing
		{idle: watchertest.Token("pb5")},
	}}
	f := newRunFixture(t, src, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Stop once the periodic save has stored the idle post-batch token:
	// it is adopted as soon as the applied events no longer hold it back.
	src.end = func() {
		go func() {
			deadline := time.Now().Add(10 * time.Second)
			for f.savedToken() != "pb5" && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
	}
	if err := f.w.Run(ctx); err != nil {
		t.Fatalf("Run = %v, want nil after a clean stop", err)
	}
	if len(src.opened) != 1 || src.opened[0] != nil {
		t.Fatalf("Open tokens %v, want one Open from startAt (nil token)", src.opened)
	}
	if got := f.ap.get(oid.Hex()); fmt.Sprint(got) != "[delete]" {
		t.Fatalf("project %s: %v, want [delete]", oid.Hex(), got)
	}
	if got := f.ap.get("p2"); fmt.Sprint(got) != "[update:New name:[]]" {
		t.Fatalf("project p2: %v", got)
	}
	if len(f.ap.order) != 2 {
		t.Fatalf("applied %v, want 2 events (insert and unrelated update derive to nothing)", f.ap.order)
	}
	if got := f.savedToken(); got != "pb5" {
		t.Fatalf("saved token %q, want the idle post-batch token pb5", got)
	}
	for k, want := range map[string]int{"change:delete": 1, "change:insert": 1, "change:update": 2, "open:true": 1, "open:false": 1} {
		if got := f.obs.count(k); got != want {
			t.Errorf("observer %s = %d, want %d", k, got, want)
		}
	}
	if f.obs.count("heartbeat") < len(src.script) {
		t.Errorf("heartbeat %d times, want at least once per Next", f.obs.count("heartbeat"))
	}
	if !src.closed {
		t.Error("source not closed")
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"component":"watcher"`) || !strings.Contains(logs, "starting the change stream at resume.startAt") {
		t.Errorf("logs lack the component or the start position:\n%s", logs)
	}
}

func TestRunResumesFromStoredCheckpoint(t *testing.T) {
	src := &scriptSource{script: []srcStep{chDelete("t2", "p1")}}
	f := newRunFixture(t, src, nil)
	f.store.cp, f.store.has = event.Checkpoint{Token: watchertest.Token("t1"), ClusterTime: bson.Timestamp{T: 50}}, true
	if err := f.run(t); err != nil {
		t.Fatal(err)
	}
	if len(src.opened) != 1 || tokName(src.opened[0]) != "t1" {
		t.Fatalf("opened at %v, want the stored token t1", src.opened)
	}
	if got := f.savedToken(); got != "t2" {
		t.Fatalf("saved %q, want t2", got)
	}
}

func TestRunQuietStreamSavesNothingNew(t *testing.T) {
	src := &scriptSource{script: []srcStep{{idle: nil}, {idle: watchertest.Token("t1")}}}
	f := newRunFixture(t, src, nil)
	f.store.cp, f.store.has = event.Checkpoint{Token: watchertest.Token("t1")}, true
	if err := f.run(t); err != nil {
		t.Fatal(err)
	}
	if n := len(f.store.saves); n != 0 {
		t.Fatalf("%d saves of an unchanged token, want 0", n)
	}
}

func TestRunStopsOnFatalChange(t *testing.T) {
	tests := []struct {
		op string
	}{{"drop"}, {"rename"}, {"dropDatabase"}, {"invalidate"}}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			src := &scriptSource{script: []srcStep{chDelete("t1", "p1"), chOp("t2", tt.op), chDelete("t3", "p3")}}
			f := newRunFixture(t, src, nil)
			err := f.run(t)
			var fatal *FatalError
			if !errors.As(err, &fatal) || fatal.Op != tt.op {
				t.Fatalf("Run = %v, want a *FatalError for %s", err, tt.op)
			}
			if got := f.savedToken(); got != "t1" {
				t.Fatalf("saved %q, want t1 (drained and saved, never past the fatal change)", got)
			}
			if len(f.ap.get("p3")) != 0 {
				t.Fatal("an event after the fatal change was applied")
			}
			if !strings.Contains(f.logs.String(), `"level":"error"`) {
				t.Fatal("no error-level log line")
			}
		})
	}
}

func TestRunStopsOnInvalidID(t *testing.T) {
	tests := []struct {
		name string
		id   any
	}{{"number", int32(12)}, {"empty string", ""}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &scriptSource{script: []srcStep{chDelete("t1", "p1"), chDelete("t2", tt.id), chDelete("t3", "p3")}}
			f := newRunFixture(t, src, nil)
			err := f.run(t)
			if !errors.Is(err, event.ErrInvalidID) {
				t.Fatalf("Run = %v, want ErrInvalidID", err)
			}
			if got := f.savedToken(); got != "t1" {
				t.Fatalf("saved %q, want t1", got)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, `"level":"error"`) || !strings.Contains(logs, `documentKey`) {
				t.Fatalf("want an error log with the raw documentKey:\n%s", logs)
			}
		})
	}
}

func historyLostErr() error {
	return fmt.Errorf("%w: %w", event.ErrHistoryLost,
		mongo.CommandError{Code: 286, Name: "ChangeStreamHistoryLost", Message: "Resume of change stream was not possible"})
}

func TestRunHistoryLost(t *testing.T) {
	tests := []struct {
		name    string
		src     *scriptSource
		wantTok string // saved checkpoint afterwards
	}{
		{"on open", &scriptSource{openErr: fmt.Errorf("open change stream: %w", historyLostErr())}, "stored"},
		{"on next", &scriptSource{script: []srcStep{chDelete("t1", "p1"), {err: fmt.Errorf("read: %w", historyLostErr())}}}, "t1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRunFixture(t, tt.src, nil)
			f.store.cp, f.store.has = event.Checkpoint{Token: watchertest.Token("stored"), ClusterTime: bson.Timestamp{T: 1700000000}}, true
			err := f.run(t)
			if !errors.Is(err, event.ErrHistoryLost) {
				t.Fatalf("Run = %v, want event.ErrHistoryLost", err)
			}
			if got := f.savedToken(); got != tt.wantTok {
				t.Fatalf("checkpoint %q, want %q (never restarted from now)", got, tt.wantTok)
			}
			if tt.src.openCalls != 1 {
				t.Fatalf("Open called %d times, want 1 (no silent restart)", tt.src.openCalls)
			}
			logs := f.logs.String()
			for _, want := range []string{`"level":"error"`, "no longer in the oplog", "may have been missed",
				"watcher checkpoint reset --yes", "watcher reconcile", "resume.onHistoryLost: reconcile", "2023-11-14T22:13:20Z"} {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %q:\n%s", want, logs)
				}
			}
		})
	}
}

func TestRunApplyFailureStopsAfterDrain(t *testing.T) {
	boom := errors.New("permission denied")
	src := &scriptSource{script: []srcStep{chDelete("t1", "p1"), chDelete("t2", "bad"), chDelete("t3", "p3")}}
	f := newRunFixture(t, src, func(o *Options) { o.Workers = 1 })
	f.ap.hook = func(ctx context.Context, id string) error {
		if id == "bad" {
			return boom
		}
		return nil
	}
	src.end = func() {} // only the failure stops this run
	err := f.run(t)
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the apply error", err)
	}
	if got := f.savedToken(); got != "t1" {
		t.Fatalf("saved %q, want t1 (before the failed event)", got)
	}
}

func TestRunResolvesLookups(t *testing.T) {
	src := &scriptSource{script: []srcStep{chUpdate("t1", "p1", bson.D{{Key: "name.first", Value: "A"}})}}
	f := newRunFixture(t, src, nil)
	if err := f.run(t); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.ap.get("p1")); got != "[update:resolved:name:[]]" {
		t.Fatalf("applied %s, want the resolved value", got)
	}
	if f.res.calls != 1 {
		t.Fatalf("Resolve called %d times, want 1", f.res.calls)
	}
}

func TestRunResolveFailureStops(t *testing.T) {
	lookupErr := errors.New("mongo unreachable")
	src := &scriptSource{script: []srcStep{chDelete("t1", "p0"), chUpdate("t2", "p1", bson.D{{Key: "name.first", Value: "A"}})}}
	f := newRunFixture(t, src, nil)
	f.res.err = lookupErr
	src.end = func() {}
	if err := f.run(t); !errors.Is(err, lookupErr) {
		t.Fatalf("Run = %v, want the resolve error", err)
	}
	if got := f.savedToken(); got != "t1" {
		t.Fatalf("saved %q, want t1", got)
	}
	if len(f.ap.get("p1")) != 0 {
		t.Fatal("an unresolved update was applied")
	}
}

func TestRunDrainsOnShutdown(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	var applyCtxErr error
	src := &scriptSource{script: []srcStep{chDelete("t1", "p1")}}
	f := newRunFixture(t, src, nil)
	f.ap.hook = func(ctx context.Context, id string) error {
		close(started)
		<-release
		applyCtxErr = ctx.Err()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	src.end = func() {}
	done := make(chan error, 1)
	go func() { done <- f.w.Run(ctx) }()
	<-started
	cancel() // SIGTERM while the event is being applied
	select {
	case err := <-done:
		t.Fatalf("Run returned %v before the in-flight event finished", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if applyCtxErr != nil {
		t.Fatalf("the apply's context was cancelled by the shutdown: %v", applyCtxErr)
	}
	if got := f.savedToken(); got != "t1" {
		t.Fatalf("saved %q, want t1 (final watermark after the drain)", got)
	}
}

func TestRunDrainTimeout(t *testing.T) {
	src := &scriptSource{script: []srcStep{chDelete("t1", "p1")}}
	started := make(chan struct{})
	f := newRunFixture(t, src, func(o *Options) { o.DrainTimeout = 10 * time.Millisecond })
	f.ap.hook = func(ctx context.Context, id string) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	src.end = func() { <-started; cancel() }
	if err := f.w.Run(ctx); err != nil {
		t.Fatalf("Run = %v, want a clean stop (the unfinished event is replayed)", err)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "stopping now") || !strings.Contains(logs, "drainTimeout") {
		t.Fatalf("no log line saying what the drain abandoned and why:\n%s", logs)
	}
	if f.store.has {
		t.Fatalf("saved %q although the only event never finished", f.savedToken())
	}
}

func TestRunLoadFailure(t *testing.T) {
	src := &scriptSource{}
	f := newRunFixture(t, src, nil)
	f.store.loadErr = errors.New("corrupt checkpoint")
	if err := f.run(t); !errors.Is(err, f.store.loadErr) {
		t.Fatalf("Run = %v, want the load error", err)
	}
	if src.openCalls != 0 {
		t.Fatal("opened the stream without a checkpoint position")
	}
}

func TestNewRequiresDeps(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"source", func(o *Options) { o.Source = nil }, "Source"},
		{"resolver", func(o *Options) { o.Resolver = nil }, "Resolver"},
		{"applier", func(o *Options) { o.Applier = nil }, "Applier"},
		{"store", func(o *Options) { o.Store = nil }, "Store"},
	}
	for _, tt := range tests {
		o := Options{Source: &scriptSource{}, Resolver: &stubResolver{}, Applier: &recApplier{}, Store: &memTokenStore{}}
		tt.mod(&o)
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
}

func TestRunReportsFinalSaveFailure(t *testing.T) {
	src := &scriptSource{script: []srcStep{chDelete("t1", "p1")}}
	f := newRunFixture(t, src, nil)
	f.store.saveErr = errors.New("majority not reachable")
	if err := f.run(t); !errors.Is(err, f.store.saveErr) {
		t.Fatalf("Run = %v, want the save error", err)
	}
	if !strings.Contains(f.logs.String(), "final checkpoint could not be saved") {
		t.Fatal("the failed final save is not logged")
	}
}

func TestRunStopDuringStartup(t *testing.T) {
	src := &scriptSource{openErr: context.Canceled}
	f := newRunFixture(t, src, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.store.loadErr = context.Canceled
	if err := f.w.Run(ctx); err != nil {
		t.Fatalf("Run stopped during startup = %v, want nil", err)
	}
	if src.openCalls != 0 {
		t.Fatal("opened the stream after the stop")
	}
}
