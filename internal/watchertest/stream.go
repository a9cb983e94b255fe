package watchertest

import (
	"context"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
)

// ChangeReader is the part of a change source NextChange reads.
type ChangeReader interface {
	Next(ctx context.Context) (event.Change, bool, error)
}

// NextChange waits (at most 10 s) for the next change of src.
func NextChange(t testing.TB, ctx context.Context, src ChangeReader) event.Change {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ch, ok, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		if ok {
			return ch
		}
	}
	t.Fatalf("no change within 10s")
	return event.Change{}
}
