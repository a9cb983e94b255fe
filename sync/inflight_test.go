package sync

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
)

func TestInflight(t *testing.T) {
	t.Run("sums reports, bounds concurrency", func(t *testing.T) {
		f := newInflight()
		var running, peak atomic.Int64
		for range 20 {
			err := f.start(func() (event.CollectionReport, error) {
				n := running.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(2 * time.Millisecond)
				running.Add(-1)
				return event.CollectionReport{Deleted: 2, Updated: 1}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		rep, err := f.wait(nil)
		if err != nil || rep.Deleted != 40 || rep.Updated != 20 {
			t.Fatalf("wait = %+v, %v; want 40 deleted, 20 updated", rep, err)
		}
		if p := peak.Load(); p > pagesInFlight || p < 2 {
			t.Errorf("peak concurrency %d, want 2..%d", p, pagesInFlight)
		}
	})
	t.Run("stops after a failure and reports it once", func(t *testing.T) {
		f := newInflight()
		boom := errors.New("boom")
		if err := f.start(func() (event.CollectionReport, error) { return event.CollectionReport{Deleted: 1}, boom }); err != nil {
			t.Fatal(err)
		}
		// The next start sees the failure once the first page is done.
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			time.Sleep(time.Millisecond)
			err = f.start(func() (event.CollectionReport, error) { return event.CollectionReport{}, nil })
		}
		if !errors.Is(err, errPageFailed) {
			t.Fatalf("start after a failure = %v, want errPageFailed", err)
		}
		rep, err := f.wait(err)
		if !errors.Is(err, boom) || errors.Is(err, errPageFailed) || rep.Deleted != 1 {
			t.Fatalf("wait = %+v, %v; want boom alone and the page's count", rep, err)
		}
		read := errors.New("query failed")
		if _, err := newInflight().wait(read); !errors.Is(err, read) {
			t.Fatalf("wait(read error) = %v, want it back", err)
		}
	})
}
