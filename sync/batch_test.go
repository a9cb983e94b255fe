package sync

import (
	"fmt"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/rs/zerolog"
)

// TestApplyBatchSplitsResultsByProject: 35 deletes, their documents
// interleaved with each other's and with those of projects no event
// names, are read with one query per collection per 30 projects, and each
// event deletes exactly its own documents (subtrees included) and reports
// exactly them. The same with pages of 2 documents (every page holds
// several projects' documents, and projects with more than a page move to
// reads of their own).
func TestApplyBatchSplitsResultsByProject(t *testing.T) {
	for _, pageSize := range []int{defaultPageSize, 2} {
		t.Run(fmt.Sprintf("page size %d", pageSize), func(t *testing.T) {
			client, counter := countingClient(t)
			a, err := New(client, threeCollections(ModeDelete), zerolog.Nop(), WithPageSize(pageSize))
			if err != nil {
				t.Fatal(err)
			}
			projects, outsiders := names("p", 35), names("q", 5)
			w := seedWorld(t, client, projects, outsiders)
			counter.reset()

			out := applyBatch(t, a, deletes(projects))
			listings := 0
			for i, p := range projects {
				if out[i].err != nil {
					t.Errorf("%s: %v", p, out[i].err)
				}
				sameReport(t, p, out[i].rep, w.deleteReport(p))
				listings += w.sb[p] + w.scenes[p]
			}
			by := counter.reset()
			assertDocs(t, client, w.without(projects...))
			if pageSize == defaultPageSize && by["RunQuery"] != 3*2 {
				t.Errorf("calls %v: want 6 RunQuery (3 collections × 2 groups: 30 and 5 projects)", by)
			}
			if pageSize != defaultPageSize && (by["RunQuery"] < 3*2 || by["RunQuery"] >= 3*35) {
				t.Errorf("calls %v: want from 6 RunQuery (and some for the projects that got a read of their own), well below 105", by)
			}
			if by["ListCollectionIds"] != listings || by["RunAggregationQuery"] != 0 {
				t.Errorf("calls %v: want %d ListCollectionIds (one per storyboards and scene document of the events), no count", by, listings)
			}
		})
	}
}

// TestApplyBatchArchivesEachProjectOnce: in archive mode a batch marks
// each event's documents, subtrees included, and leaves a document
// archived already as it was (its archivedAt unchanged); outsiders stay.
func TestApplyBatchArchivesEachProjectOnce(t *testing.T) {
	a, client, _ := newApplier(t, threeCollections(ModeArchive))
	projects, outsiders := names("p", 12), names("q", 3)
	w := seedWorld(t, client, projects, outsiders)
	before := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	pre := "storyboards/d00-p01" // p01: 2 storyboards, no scene
	firestoretest.SeedPaths(t, client, docs{pre: {"projectId": "p01", "projectName": "old", ArchivedField: true, archivedAtField: before}})

	out := applyBatch(t, a, deletes(projects))
	for i, p := range projects {
		want := event.Report{Collections: []event.CollectionReport{
			{Collection: "storyboards", Matched: w.sb[p], Archived: w.sb[p] + w.scenes[p]},
			{Collection: "aiAnalyses", Matched: w.ai[p], Archived: w.ai[p]},
			{Collection: "generatedMedia"},
		}}
		if p == "p01" {
			want.Collections[0].Archived--
		}
		if out[i].err != nil {
			t.Errorf("%s: %v", p, out[i].err)
		}
		sameReport(t, p, out[i].rep, want)
	}
	got := firestoretest.Dump(t, client)
	for _, p := range projects {
		for _, path := range w.paths[p] {
			if got[path][ArchivedField] != true || got[path][archivedAtField] == nil {
				t.Errorf("%s = %v, want archived", path, got[path])
			}
		}
	}
	if at, _ := got[pre][archivedAtField].(time.Time); !at.Equal(before) {
		t.Errorf("%s archivedAt %v, want it unchanged (%v)", pre, got[pre][archivedAtField], before)
	}
	for path, d := range w.without(projects...) {
		if fmt.Sprint(got[path]) != fmt.Sprint(d) {
			t.Errorf("outsider %s = %v, want %v", path, got[path], d)
		}
	}
}

// TestApplyBatchUpdatesEachProjectWithItsOwnValues: renames of 33
// projects go in groups of at most 30 (one query per collection each);
// every document gets its own project's new name; a project already
// holding it writes nothing; an update of another field reads apart (only
// the collection it is copied to); an event that cannot be applied fails
// alone; a second event of a project in the same call is applied after
// the first.
func TestApplyBatchUpdatesEachProjectWithItsOwnValues(t *testing.T) {
	client, counter := countingClient(t)
	cfg := threeCollections(ModeDelete)
	cfg.Fields = append(cfg.Fields, config.Field{Source: "tag", Target: "projectTag", Collections: []string{"storyboards"}})
	a, err := New(client, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	projects, outsiders := names("p", 33), names("q", 3)
	w := newWorld()
	for i, p := range append(append(append([]string(nil), projects...), outsiders...), "t0", "bad") {
		w.addProject(p, i, 0)
	}
	for _, path := range w.paths["p05"] {
		if w.all[path]["projectId"] == "p05" {
			w.all[path] = map[string]any{"projectId": "p05", "projectName": "new-p05"}
		}
	}
	firestoretest.SeedPaths(t, client, w.all)
	counter.reset()

	var evs []event.Event
	for _, p := range projects {
		evs = append(evs, event.Event{Kind: event.ProjectUpdated, ProjectID: p, Set: map[string]any{"name": "new-" + p}})
	}
	evs = append(evs,
		event.Event{Kind: event.ProjectUpdated, ProjectID: "t0", Set: map[string]any{"tag": "x"}},
		event.Event{Kind: event.ProjectUpdated, ProjectID: "bad", Set: map[string]any{"name": "y"}, Unset: []string{"name"}},
		event.Event{Kind: event.ProjectUpdated, ProjectID: "p00", Set: map[string]any{"name": "newer-p00"}})
	out := applyBatch(t, a, evs)

	want := w.without()
	for i, p := range projects {
		sb, ai := w.sb[p], w.ai[p]
		if p == "p05" {
			sb, ai = 0, 0
		}
		if out[i].err != nil {
			t.Errorf("%s: %v", p, out[i].err)
		}
		sameReport(t, p, out[i].rep, event.Report{Collections: []event.CollectionReport{
			{Collection: "storyboards", Matched: w.sb[p], Updated: sb},
			{Collection: "aiAnalyses", Matched: w.ai[p], Updated: ai},
			{Collection: "generatedMedia"},
		}})
		name := "new-" + p
		if p == "p00" {
			name = "newer-p00"
		}
		for _, path := range w.paths[p] {
			if w.all[path]["projectId"] == p {
				want[path] = map[string]any{"projectId": p, "projectName": name}
			}
		}
	}
	for _, path := range w.paths["t0"] {
		if w.all[path]["projectId"] == "t0" && containsAll(path, "storyboards/") {
			want[path] = map[string]any{"projectId": "t0", "projectName": "old", "projectTag": "x"}
		}
	}
	n := len(projects)
	sameReport(t, "t0", out[n].rep, event.Report{Collections: []event.CollectionReport{{Collection: "storyboards", Matched: w.sb["t0"], Updated: w.sb["t0"]}}})
	if out[n].err != nil || !containsAll(errText(out[n+1].err), "sync: updating project bad", "both set and unset") {
		t.Errorf("t0: %v; bad: %v, want the bad event's own error", out[n].err, out[n+1].err)
	}
	if out[n+2].err != nil || out[n+2].rep.Total() != w.sb["p00"]+w.ai["p00"] {
		t.Errorf("second event of p00: %v, report %+v", out[n+2].err, out[n+2].rep)
	}
	if by := counter.reset(); by["RunQuery"] != 3*2+1+3 {
		t.Errorf("calls %v: want 10 RunQuery (renames: 3 collections × 2 groups; the tag: 1; p00's second event alone: 3)", by)
	}
	assertDocs(t, client, want)
}

// TestApplyBatchCutoffPerEvent: each delete of a batch keeps its own
// create-time cutoff: a re-created project keeps its new documents, while
// the other event of the batch (no cutoff) deletes documents created after
// that cutoff.
func TestApplyBatchCutoffPerEvent(t *testing.T) {
	a, client, _ := newApplier(t, threeCollections(ModeDelete))
	ctx := testContext(t)
	firestoretest.SeedPaths(t, client, docs{
		"storyboards/oldA":          {"projectId": "slugA"},
		"storyboards/oldA/scenes/1": {"n": int64(1)},
		"aiAnalyses/oldA":           {"projectId": "slugA"},
	})
	cutoff := latestCreateTime(t, ctx, client, "storyboards/oldA", "aiAnalyses/oldA")
	firestoretest.SeedPaths(t, client, docs{
		"storyboards/newA":          {"projectId": "slugA"},
		"storyboards/newA/scenes/1": {"n": int64(2)},
		"storyboards/b1":            {"projectId": "slugB"},
		"aiAnalyses/b2":             {"projectId": "slugB"},
	})
	out := applyBatch(t, a, []event.Event{
		{Kind: event.ProjectDeleted, ProjectID: "slugA", CreatedBy: cutoff},
		{Kind: event.ProjectDeleted, ProjectID: "slugB"},
	})
	for i, o := range out {
		if o.err != nil {
			t.Errorf("event %d: %v", i, o.err)
		}
	}
	assertDocs(t, client, docs{
		"storyboards/newA":          {"projectId": "slugA"},
		"storyboards/newA/scenes/1": {"n": int64(2)},
	})
	if got := reportOf(out[0].rep); got["storyboards"].Matched != 2 || got["storyboards"].Deleted != 2 || got["aiAnalyses"].Deleted != 1 {
		t.Errorf("slugA report %+v: want 2 matched and 2 deleted in storyboards (oldA and its scene), 1 in aiAnalyses", out[0].rep)
	}
	if got := out[1].rep.Total(); got != 2 {
		t.Errorf("slugB report %+v: want 2 matched", out[1].rep)
	}
}
