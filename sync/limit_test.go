package sync

import (
	"context"
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
	rep, err := l.updateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if by := counter.reset(); by["RunQuery"] != 3 || by["RunAggregationQuery"] != 0 || rep.Total() != 4 {
		t.Errorf("update: calls %v, report %+v; want 3 RunQuery, no count, 4 matched", by, rep)
	}
	rep, err = l.deleteProject(ctx, "p1")
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
	if _, err := withOptions(t, a, WithLimit(maxBufferedDocs+1)).deleteProject(ctx, "p1"); err != nil {
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
				rep, err := l.updateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
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
			rep, err := l.deleteProject(ctx, "p1")
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
	_, err := l.deleteProject(ctx, "p1")
	if !errors.Is(err, event.ErrSafetyLimit) || !strings.Contains(err.Error(), "more than 3") {
		t.Fatalf("delete of 4 documents with limit 3: %v", err)
	}
	assertDocs(t, client, all)
	rep, err := l.updateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
	if err != nil || rep.Total() != 3 {
		t.Fatalf("update reaching 3 storyboards with limit 3: %v, report %+v", err, rep)
	}
}

// seedProject writes n documents of project p in storyboards and one in
// aiAnalyses, plus one document of another project.
func seedProject(t *testing.T, a *Applier, p string, n int) docs {
	t.Helper()
	all := docs{}
	sb := map[string]map[string]any{}
	for i := 0; i < n; i++ {
		d := map[string]any{"projectId": p, "projectName": "old"}
		sb[docID("s", i)] = d
		all["storyboards/"+docID("s", i)] = d
	}
	sb["other"] = map[string]any{"projectId": "other", "projectName": "keep"}
	all["storyboards/other"] = sb["other"]
	firestoretest.Seed(t, a.client, "storyboards", sb)
	ai := map[string]map[string]any{"a1": {"projectId": p, "projectName": "old"}}
	firestoretest.Seed(t, a.client, "aiAnalyses", ai)
	all["aiAnalyses/a1"] = ai["a1"]
	return all
}

func TestLimitedStopsBeforeWriting(t *testing.T) {
	tests := []struct {
		name    string
		limit   int
		update  bool
		wantErr bool
	}{
		{"delete over the limit", 3, false, true},
		{"update over the limit", 3, true, true},
		{"delete at the limit", 4, false, false},
		{"no limit", 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, client, _ := newApplier(t, threeCollections(ModeDelete))
			ctx := testContext(t)
			all := seedProject(t, a, "p1", 3) // 3 + 1 = 4 documents
			l := withOptions(t, a, WithLimit(tt.limit))
			var err error
			if tt.update {
				_, err = l.updateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
			} else {
				_, err = l.deleteProject(ctx, "p1")
			}
			if got := errors.Is(err, event.ErrSafetyLimit); got != tt.wantErr {
				t.Fatalf("err = %v, want safety limit: %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if !strings.Contains(err.Error(), "more than 3 documents") {
					t.Errorf("error %q does not say how many documents", err)
				}
				assertDocs(t, client, all) // nothing written
				return
			}
			assertDocs(t, client, docs{"storyboards/other": all["storyboards/other"]})
		})
	}
}

func TestOverLimitCountFailure(t *testing.T) {
	boom := errors.New("unavailable")
	failingCount := func(context.Context) (event.Report, error) { return event.Report{}, boom }
	_, err := overLimit(context.Background(), failingCount, "p1", 10)
	if !errors.Is(err, boom) || errors.Is(err, event.ErrSafetyLimit) {
		t.Fatalf("err %v: want the count error, not a safety-limit error", err)
	}
	if _, err := overLimit(context.Background(), failingCount, "p1", 0); err != nil {
		t.Fatalf("no limit: %v, want no count at all", err)
	}
}

// TestLimitReadsAtMostLimitPlusOne: a limited event reads no more than
// limit+1 documents of a collection to find that it is over the limit,
// whatever the page size.
func TestLimitReadsAtMostLimitPlusOne(t *testing.T) {
	client, counter := countingClient(t)
	cfg := threeCollections(ModeDelete)
	cfg.Collections = cfg.Collections[:1]
	a, err := New(client, cfg, zerolog.Nop(), WithLimit(10))
	if err != nil {
		t.Fatal(err)
	}
	seedCounted(t, a, 50)
	counter.reset()
	rep, err := a.deleteProject(testContext(t), "p1")
	if !errors.Is(err, event.ErrSafetyLimit) || !strings.Contains(err.Error(), "more than 10 documents (11 seen") {
		t.Fatalf("delete of 50 documents with limit 10: %v, want a safety-limit error after 11 seen", err)
	}
	if rep.Total() != 11 {
		t.Errorf("report %+v, want 11 matched", rep)
	}
	if by := counter.reset(); by["RunQuery"] != 1 || len(by) != 1 {
		t.Errorf("calls %v, want one query and nothing else", by)
	}
}
