package sync

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/rs/zerolog"
)

// seedCounted writes n documents of p1 in storyboards (each with a
// one-document subcollection), one in aiAnalyses and one of p2.
func seedCounted(t *testing.T, a *Applier, n int) {
	t.Helper()
	sb := docs{"other": {"projectId": "p2", "projectName": "keep"}}
	paths := docs{}
	for i := range n {
		sb[docID("s", i)] = map[string]any{"projectId": "p1", "projectName": "old"}
		paths["storyboards/"+docID("s", i)+"/scenes/x"] = map[string]any{"n": i}
	}
	firestoretest.Seed(t, a.client, "storyboards", sb)
	firestoretest.SeedPaths(t, a.client, paths)
	firestoretest.Seed(t, a.client, "aiAnalyses", docs{"a1": {"projectId": "p1", "projectName": "old"}})
}

// TestLimitCostsNoQuery: with a limit, an event makes one query per
// collection it reaches, as without one: the limit is checked on the
// results the event reads anyway, not with count queries; and a read that
// fit one query is not repeated.
func TestLimitCostsNoQuery(t *testing.T) {
	client, counter := countingClient(t)
	a, err := New(client, threeCollections(ModeDelete), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	seedCounted(t, a, 3)
	counter.reset()

	l := withOptions(t, a, WithLimit(100))
	rep, err := l.UpdateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if by := counter.reset(); by["RunQuery"] != 3 || by["RunAggregationQuery"] != 0 || rep.Total() != 4 {
		t.Errorf("update: calls %v, report %+v; want 3 RunQuery, no count, 4 matched", by, rep)
	}
	rep, err = l.DeleteProject(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	by := counter.reset()
	if by["RunQuery"] != 3 || by["RunAggregationQuery"] != 0 || by["ListCollectionIds"] != 6 {
		t.Errorf("delete: calls %v; want 3 RunQuery (one per collection), no count, 6 subcollection listings (3 storyboards, 3 scenes)", by)
	}
	if got := reportOf(rep); got["storyboards"].Deleted != 6 || got["aiAnalyses"].Deleted != 1 || rep.Total() != 4 {
		t.Errorf("delete report %+v", rep)
	}
	assertDocs(t, client, docs{"storyboards/other": {"projectId": "p2", "projectName": "keep"}})

	// Control: above maxBufferedDocs the limit is checked by counting, and
	// the counter sees it.
	seedCounted(t, a, 1)
	counter.reset()
	if _, err := withOptions(t, a, WithLimit(maxBufferedDocs+1)).DeleteProject(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if by := counter.reset(); by["RunAggregationQuery"] != 3 || by["RunQuery"] != 3 {
		t.Errorf("limit above maxBufferedDocs: calls %v, want 3 count queries, then 3 queries (no confirming pass)", by)
	}
}

// TestLimitedManyQueries: a limited event whose reads take several queries
// (page size 5: 100 documents a query) applies every document, and a
// cleanup then confirms with one more pass.
func TestLimitedManyQueries(t *testing.T) {
	const n = 230
	for _, update := range []bool{false, true} {
		t.Run(fmt.Sprintf("update=%v", update), func(t *testing.T) {
			client, counter := countingClient(t)
			cfg := threeCollections(ModeDelete)
			cfg.Collections = cfg.Collections[:1]
			a, err := New(client, cfg, zerolog.Nop(), WithPageSize(5))
			if err != nil {
				t.Fatal(err)
			}
			ctx := testContext(t)
			seedCounted(t, a, n)
			counter.reset()
			l := withOptions(t, a, WithLimit(n))
			if update {
				rep, err := l.UpdateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
				if err != nil || rep.Total() != n || reportOf(rep)["storyboards"].Updated != n {
					t.Fatalf("update: %v, report %+v", err, rep)
				}
				if by := counter.reset(); by["RunQuery"] != 3 {
					t.Errorf("update calls %v, want 3 queries (100+100+30)", by)
				}
				for id, d := range firestoretest.ReadAll(t, client, "storyboards") {
					if want := map[bool]string{true: "new", false: "keep"}[d["projectId"] == "p1"]; d["projectName"] != want {
						t.Errorf("%s: projectName %v, want %s", id, d["projectName"], want)
					}
				}
				return
			}
			rep, err := l.DeleteProject(ctx, "p1")
			if err != nil || rep.Total() != n || reportOf(rep)["storyboards"].Deleted != 2*n {
				t.Fatalf("delete: %v, report %+v", err, rep)
			}
			if by := counter.reset(); by["RunQuery"] != 4 {
				t.Errorf("delete calls %v, want 4 queries (3 to read, 1 confirming pass)", by)
			}
			assertDocs(t, client, docs{ // aiAnalyses is not configured here
				"storyboards/other": {"projectId": "p2", "projectName": "keep"},
				"aiAnalyses/a1":     {"projectId": "p1", "projectName": "old"},
			})
		})
	}
}

// TestLimitOverSeveralCollections: the limit is on the sum over the
// collections an event reaches; an update counts only the collections its
// fields are copied to.
func TestLimitOverSeveralCollections(t *testing.T) {
	cfg := threeCollections(ModeDelete)
	cfg.Fields = []config.Field{{Source: "name", Target: "projectName", Collections: []string{"storyboards"}}}
	a, client, _ := newApplier(t, cfg)
	ctx := testContext(t)
	all := seedProject(t, a, "p1", 3) // storyboards 3, aiAnalyses 1
	l := withOptions(t, a, WithLimit(3))
	_, err := l.DeleteProject(ctx, "p1")
	if !errors.Is(err, event.ErrSafetyLimit) || !strings.Contains(err.Error(), "more than 3") {
		t.Fatalf("delete of 4 documents with limit 3: %v", err)
	}
	assertDocs(t, client, all)
	rep, err := l.UpdateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
	if err != nil || rep.Total() != 3 {
		t.Fatalf("update reaching 3 storyboards with limit 3: %v, report %+v", err, rep)
	}
}
