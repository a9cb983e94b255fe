package watcher

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/clocktest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A write refused because the lease term ended (the Firestore fence's
// error: event.ErrTermEnded with status FailedPrecondition) leaves the
// event unfinished even before the applies are cancelled: it is not
// retried, not dead-lettered and not completed, so the checkpoint stays
// before it and the next leader replays it.
func TestDispatcherLeavesAWriteRefusedAfterTheTermUnfinished(t *testing.T) {
	refused := errors.Join(event.ErrTermEnded, status.Error(codes.FailedPrecondition, "firestore BatchWrite not sent"))
	ap := &failApplier{always: map[string]error{"p1": fmt.Errorf("sync: update page: %w", refused)}}
	done := &recDone{}
	store := &memDeadLetters{}
	fails := &recFailures{}
	d := newDispatcher(ap, done, nil, zerolog.Nop(), 1, 4, withRetry(testPolicy(5)), withDeadLetters(store),
		withFailureObserver(fails), withClock(clocktest.NewAuto(time.Unix(1000, 0))))
	d.Start(context.Background())
	for i, ev := range []event.Event{updEvent("p1", "a"), updEvent("p2", "b")} {
		if err := d.Dispatch(context.Background(), uint64(i), ev); err != nil {
			t.Fatal(err)
		}
	}
	watchertest.WaitFor(t, "p2 to be applied", func() bool { _, ok := done.get(1); return ok })
	d.Close()
	if _, ok := done.get(0); ok || done.count() != 1 {
		t.Fatalf("the refused event completed (%d completions); it must stay unfinished", done.count())
	}
	retries, reasons := fails.get()
	if _, calls := ap.snapshot(); calls["p1"] != 1 || len(retries) != 0 || len(reasons) != 0 || len(store.all()) != 0 {
		t.Fatalf("p1: %d attempts, retries %v, reasons %v, %d letters; want one attempt, no retry, no letter",
			calls["p1"], retries, reasons, len(store.all()))
	}
}
