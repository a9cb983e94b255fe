package watcher

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/watchertest"
)

// TestRunStoresStartPositionBeforeReady: on a first start the position the
// stream opened at is stored before the stream is reported open (ready)
// and before any event is applied; a process killed right after that
// starts there again.
func TestRunStoresStartPositionBeforeReady(t *testing.T) {
	src := &scriptSource{start: watchertest.Token("start"), script: []srcStep{chDelete("t1", "p1")}}
	var savedWhenOpen string
	f := newRunFixture(t, src, func(o *Options) { o.CheckpointInterval = time.Hour })
	f.obs.onOpen = func() { savedWhenOpen = f.savedToken() }
	if err := f.run(t); err != nil {
		t.Fatal(err)
	}
	if savedWhenOpen != "start" {
		t.Fatalf("stored %q when the stream was reported open, want the start position", savedWhenOpen)
	}
	if got := f.savedToken(); got != "t1" {
		t.Fatalf("final checkpoint %q, want t1", got)
	}
}

// TestRunReportsStreamLostUntilReopened: the stream is reported closed
// from the moment a read fails until it is open again, not only when the
// run ends.
func TestRunReportsStreamLostUntilReopened(t *testing.T) {
	src := &scriptSource{script: []srcStep{chDelete("t1", "p1"), {err: fmt.Errorf("read change stream: %w", io.ErrUnexpectedEOF)}, chDelete("t2", "p2")}}
	f := newRunFixture(t, src, func(o *Options) { o.Retry = RetryPolicy{InitialBackoff: 1, MaxBackoff: 1} })
	if err := f.run(t); err != nil {
		t.Fatal(err)
	}
	if up, down := f.obs.count("open:true"), f.obs.count("open:false"); up != 2 || down != 2 {
		t.Fatalf("stream reported open %d times and closed %d times, want 2 and 2 (lost, reopened, closed at the end)", up, down)
	}
}

// TestRunSecondSignalStopsNow: during the drain, StopNow cancels what is
// in flight at once and the final checkpoint is saved before it.
func TestRunSecondSignalStopsNow(t *testing.T) {
	started, stopNow := make(chan struct{}), make(chan struct{})
	src := &scriptSource{script: []srcStep{chDelete("t1", "p1"), chDelete("t2", "stuck")}}
	src.end = func() {}
	f := newRunFixture(t, src, func(o *Options) { o.StopNow = stopNow; o.Workers = 1 })
	f.ap.hook = func(ctx context.Context, id string) error {
		if id == "stuck" {
			close(started)
			<-ctx.Done() // a call that never answers until cancelled
			return ctx.Err()
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.w.Run(ctx) }()
	<-started
	cancel() // the first signal: drain
	select {
	case err := <-done:
		t.Fatalf("Run returned %v while an event was being applied (the drain must wait)", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(stopNow) // the second signal
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the second signal")
	}
	if got := f.savedToken(); got != "t1" {
		t.Fatalf("saved %q, want t1 (before the abandoned event)", got)
	}
	if !strings.Contains(f.logs.String(), "stopping now") {
		t.Fatalf("no log line about what was abandoned:\n%s", f.logs.String())
	}
}

// TestRunDryRunSaysWouldApply: a dry run never logs that it applied an
// event or saved a checkpoint.
func TestRunDryRunSaysWouldApply(t *testing.T) {
	src := &scriptSource{script: []srcStep{chDelete("t1", "p1")}}
	f := newRunFixture(t, src, func(o *Options) { o.DryRun = true })
	if err := f.run(t); err != nil {
		t.Fatal(err)
	}
	logs := f.logs.String()
	for _, claim := range []string{`"event applied"`, "final checkpoint saved"} {
		if strings.Contains(logs, claim) {
			t.Errorf("a dry run logged %s:\n%s", claim, logs)
		}
	}
	for _, want := range []string{"would apply", "no checkpoint is stored in a dry run"} {
		if !strings.Contains(logs, want) {
			t.Errorf("dry-run logs lack %q:\n%s", want, logs)
		}
	}
}
