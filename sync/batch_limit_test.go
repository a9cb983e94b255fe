package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/rs/zerolog"
)

// TestApplyBatchSafetyLimitPerEvent: behind a limit, an event of a batch
// with more documents than the limit writes nothing and fails with
// ErrSafetyLimit; the other events of the batch are applied. With pages
// of 2 documents as well (the large event then leaves the shared read
// before it passes the limit); and above maxBufferedDocs, where the limit
// is checked by counting each event.
func TestApplyBatchSafetyLimitPerEvent(t *testing.T) {
	for _, tt := range []struct {
		name     string
		pageSize int
		limit    int
	}{
		{"one page", defaultPageSize, 4},
		{"pages of 2", 2, 4},
		{"counted", defaultPageSize, maxBufferedDocs + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client, counter := countingClient(t)
			a, err := New(client, threeCollections(ModeDelete), zerolog.Nop(), WithPageSize(tt.pageSize), WithLimit(tt.limit))
			if err != nil {
				t.Fatal(err)
			}
			projects := names("p", 10) // 1 to 4 storyboards, 4 documents at most in all
			w := newWorld()
			for i, p := range projects {
				w.addProject(p, i, 0)
			}
			big := 9
			if tt.limit > maxBufferedDocs {
				big = 0 // counted: the limit is not reached, the count is what is checked
			}
			if big > 0 {
				w.addProject("big", 1, big)
			}
			firestoretest.SeedPaths(t, client, w.all)
			counter.reset()
			evs := deletes(append(append([]string(nil), projects[:5]...), append([]string{"big"}, projects[5:]...)...))
			out := applyBatch(t, a, evs)
			by := counter.reset()
			for i, ev := range evs {
				p := ev.ProjectID
				if p == "big" {
					checkOverLimit(t, out[i], big, tt.limit)
					continue
				}
				if out[i].err != nil {
					t.Errorf("%s: %v", p, out[i].err)
				}
				sameReport(t, p, out[i].rep, w.deleteReport(p))
			}
			assertDocs(t, client, w.without(projects...)) // big's documents are all there
			if tt.limit > maxBufferedDocs {
				if by["RunAggregationQuery"] != 3*len(evs) || by["RunQuery"] != 3 {
					t.Errorf("calls %v: want 3 counts per event, then one query per collection for the batch", by)
				}
				return
			}
			if by["RunAggregationQuery"] != 0 || by["RunQuery"] < 3 || (tt.pageSize == defaultPageSize && by["RunQuery"] > 6) {
				t.Errorf("calls %v: want no count and one query per collection (and one more where the large event left)", by)
			}
		})
	}
}

// checkOverLimit: the big event failed on the limit, having seen more
// than the limit (no more than a page beyond it).
func checkOverLimit(t *testing.T, o outcome, big, limit int) {
	t.Helper()
	if big == 0 {
		if o.err != nil {
			t.Errorf("big: %v", o.err)
		}
		return
	}
	if !errors.Is(o.err, event.ErrSafetyLimit) || !containsAll(o.err.Error(), "sync: cleaning up project big", fmt.Sprintf("more than %d documents", limit)) {
		t.Errorf("big: %v, want its own safety-limit error", o.err)
	}
	if n := o.rep.Total(); n <= limit || n > big {
		t.Errorf("big's report %+v: want more than %d matched, at most %d", o.rep, limit, big)
	}
}

// failingCleanup is a cleanup whose writes all fail.
type failingCleanup struct{ cleanup }

var errRefused = errors.New("write refused")

func (failingCleanup) writePage(context.Context, zerolog.Logger, config.Collection, []write) (event.CollectionReport, error) {
	return event.CollectionReport{}, errRefused
}

// TestBatchFailureStaysPerEvent: an event of a batch whose writes fail
// fails alone, with its own error; the others are applied and report what
// they did. With and without a limit.
func TestBatchFailureStaysPerEvent(t *testing.T) {
	for _, limit := range []int{0, 100} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			a, client, _ := newApplier(t, threeCollections(ModeDelete), WithLimit(limit))
			projects := names("p", 6)
			w := seedWorld(t, client, projects, names("q", 2))
			var members []*member
			for _, p := range projects {
				var op operation = a.cleanupOf(time.Time{})
				if p == "p03" {
					op = failingCleanup{a.cleanupOf(time.Time{})}
				}
				members = append(members, &member{projectID: p, op: op})
			}
			runMembers(testContext(t), a, members...)
			for _, m := range members {
				if m.projectID == "p03" {
					if !errors.Is(m.err, errRefused) || !strings.Contains(m.err.Error(), "collection storyboards") {
						t.Errorf("p03: %v, want its write error", m.err)
					}
					continue
				}
				if m.err != nil {
					t.Errorf("%s: %v", m.projectID, m.err)
				}
				sameReport(t, m.projectID, m.rep, w.deleteReport(m.projectID))
			}
			others := append(append([]string(nil), projects[:3]...), projects[4:]...)
			assertDocs(t, client, w.without(others...)) // p03's documents stay
		})
	}
}

// gatedCleanup is a cleanup whose writes for one project wait for a gate.
type gatedCleanup struct {
	cleanup
	gate <-chan struct{}
}

func (g gatedCleanup) writePage(ctx context.Context, log zerolog.Logger, coll config.Collection, writes []write) (event.CollectionReport, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return event.CollectionReport{}, ctx.Err()
	}
	return g.cleanup.writePage(ctx, log, coll, writes)
}

// TestBatchGiantDoesNotHoldTheOthers: a large event of a batch whose
// documents come first in the shared read (and whose writes are slow)
// leaves it for a read of its own once it got a page: the small events of
// the batch are finished, and told so, while it still writes.
func TestBatchGiantDoesNotHoldTheOthers(t *testing.T) {
	cfg := threeCollections(ModeDelete)
	cfg.Collections = []config.Collection{{Name: "aiAnalyses"}}
	a, client, _ := newApplier(t, cfg, WithPageSize(5))
	seed := docs{}
	const giant = 60
	for j := range giant {
		seed[fmt.Sprintf("d%02d-g", j)] = map[string]any{"projectId": "g"}
	}
	small := names("s", 5)
	for _, p := range small {
		for j := range 2 {
			seed[fmt.Sprintf("z%02d-%s", j, p)] = map[string]any{"projectId": p}
		}
	}
	firestoretest.Seed(t, client, "aiAnalyses", seed)

	gate := make(chan struct{})
	var mu sync.Mutex
	finished := map[string]error{}
	smallDone := make(chan struct{})
	members := []*member{{projectID: "g", op: gatedCleanup{cleanup: a.cleanupOf(time.Time{}), gate: gate}}}
	for _, p := range small {
		members = append(members, &member{projectID: p, op: a.cleanupOf(time.Time{})})
	}
	for _, m := range members {
		m.done = func(_ event.Report, err error) {
			mu.Lock()
			defer mu.Unlock()
			finished[m.projectID] = err
			if len(finished) == len(small) && m.projectID != "g" {
				close(smallDone)
			}
		}
	}
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		runMembers(testContext(t), a, members...)
	}()
	select {
	case <-smallDone:
	case <-time.After(20 * time.Second):
		close(gate)
		<-ran
		t.Fatalf("the small events were not finished while the giant's writes waited (finished: %v)", finished)
	}
	close(gate)
	<-ran
	for _, m := range members {
		if m.err != nil {
			t.Errorf("%s: %v", m.projectID, m.err)
		}
	}
	if c := reportOf(members[0].rep)["aiAnalyses"]; c.Matched != giant || c.Deleted != giant {
		t.Errorf("giant report %+v, want %d matched and deleted", c, giant)
	}
	for _, m := range members[1:] {
		if c := reportOf(m.rep)["aiAnalyses"]; c.Matched != 2 || c.Deleted != 2 {
			t.Errorf("%s report %+v, want 2 matched and deleted", m.projectID, c)
		}
	}
	assertDocs(t, client, docs{})
}
