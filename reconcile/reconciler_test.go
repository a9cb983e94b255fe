package reconcile

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/projectwatcher/watcher/event"
	fssync "github.com/projectwatcher/watcher/sync"
	"github.com/projectwatcher/watcher/watcher"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// world seeds the scenario used by the reconciler tests and returns the
// expected per-collection counts (dry run and repairing run alike).
func seedWorld(f *fixture) (a, c string, want map[string]CollectionSummary) {
	oidA, oidC := bson.NewObjectID(), bson.NewObjectID()
	a, c = oidA.Hex(), oidC.Hex()
	gone, gone2 := bson.NewObjectID().Hex(), "custom-gone"
	hexString := "aaaaaaaaaaaaaaaaaaaaaaaa" // a string _id that looks like an ObjectID
	f.insert(
		bson.D{{Key: "_id", Value: oidA}, {Key: "name", Value: "Alpha"}, {Key: "owner", Value: bson.D{{Key: "team", Value: "red"}}}},
		bson.D{{Key: "_id", Value: "proj-b"}, {Key: "name", Value: "Beta"}, {Key: "owner", Value: bson.D{{Key: "team", Value: "blue"}}}},
		bson.D{{Key: "_id", Value: oidC}, {Key: "name", Value: "Gamma"}},
		bson.D{{Key: "_id", Value: hexString}, {Key: "name", Value: "Delta"}},
	)
	f.seed(map[string]map[string]any{
		"storyboards/a1":               {"projectId": a, "projectName": "Alpha", "project": map[string]any{"team": "red"}},
		"storyboards/a1/scenes/s1":     {"order": 1},
		"storyboards/a2":               {"projectId": a, "projectName": "Old", "project": map[string]any{"team": "red"}},
		"storyboards/c1":               {"projectId": c, "projectName": "Gamma", "project": map[string]any{"team": "x"}},
		"storyboards/g1":               {"projectId": gone, "projectName": "Gone"},
		"storyboards/g1/scenes/s1":     {"order": 1},
		"aiAnalyses/b1":                {"projectId": "proj-b", "projectName": "Beta"},
		"aiAnalyses/b2":                {"projectId": "proj-b", "projectName": "Old B"},
		"aiAnalyses/c1":                {"projectId": c, "projectName": "Gamma"},
		"aiAnalyses/d1":                {"projectId": hexString, "projectName": "Delta"},
		"aiAnalyses/g2":                {"projectId": gone, "projectName": "Gone"},
		"aiAnalyses/bad1":              {"projectId": ""},
		"aiAnalyses/bad2":              {"projectId": int64(42)},
		"aiAnalyses/noid":              {"title": "x"},
		"renders/r1":                   {"kind": "parent"},
		"renders/r1/generatedMedia/m1": {"projectId": gone2, "projectName": "x"},
		"renders/r1/generatedMedia/m2": {"projectId": c, "projectName": "Old C"},
	})
	want = map[string]CollectionSummary{
		"storyboards":    {Collection: "storyboards", Scanned: 4, Orphans: 1, Drifted: 2},
		"aiAnalyses":     {Collection: "aiAnalyses", Scanned: 8, Orphans: 1, Drifted: 1, Invalid: 2, NoID: 1},
		"generatedMedia": {Collection: "generatedMedia", Scanned: 2, Orphans: 1, Drifted: 1},
	}
	return a, c, want
}

func TestDryRunFindsEverythingAndChangesNothing(t *testing.T) {
	f := newFixture(t, fssync.ModeDelete)
	_, _, want := seedWorld(f)
	before := f.dump()
	sum, err := f.reconciler(Options{DryRun: true, PageSize: 2, BatchSize: 2}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := byCollection(sum); !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n%+v\nwant\n%+v", got, want)
	}
	if sum.Found() != 9 {
		t.Errorf("Found() = %d, want 9", sum.Found())
	}
	if len(sum.InvalidDocs) != 2 {
		t.Errorf("InvalidDocs = %v, want the two bad ones", sum.InvalidDocs)
	}
	if after := f.dump(); !reflect.DeepEqual(after, before) {
		t.Errorf("a dry run changed Firestore:\nbefore %v\nafter  %v", before, after)
	}
}

func TestRunRepairsOrphansAndDrift(t *testing.T) {
	f := newFixture(t, fssync.ModeDelete)
	_, _, want := seedWorld(f)
	// Repaired counts the documents the repairs changed, wherever found.
	for name, r := range map[string][2]int{"storyboards": {1, 2}, "aiAnalyses": {1, 1}, "generatedMedia": {1, 1}} {
		w := want[name]
		w.RepairedOrphans, w.RepairedDrift, w.Repaired = r[0], r[1], r[0]+r[1]
		want[name] = w
	}
	// aiAnalyses/g2 is cleaned with its project's storyboard, before the
	// scan of aiAnalyses reaches it: counted as scanned and found there, as
	// a dry run counts it, so no collection shows more found than scanned.
	sum, err := f.reconciler(Options{PageSize: 2, BatchSize: 2}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := byCollection(sum); !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n%+v\nwant\n%+v", got, want)
	}
	for _, c := range sum.Collections {
		if c.Orphans+c.Drifted > c.Scanned {
			t.Errorf("%s: %d found, %d scanned", c.Collection, c.Orphans+c.Drifted, c.Scanned)
		}
	}
	docs := f.dump()
	for _, gone := range []string{"storyboards/g1", "storyboards/g1/scenes/s1", "aiAnalyses/g2", "renders/r1/generatedMedia/m1"} {
		if _, ok := docs[gone]; ok {
			t.Errorf("orphan %s is still there", gone)
		}
	}
	for path, name := range map[string]string{"storyboards/a2": "Alpha", "aiAnalyses/b2": "Beta", "renders/r1/generatedMedia/m2": "Gamma"} {
		if got := docs[path]["projectName"]; got != name {
			t.Errorf("%s: projectName %v, want %v", path, got, name)
		}
	}
	if team, ok := docs["storyboards/c1"]["project"].(map[string]any)["team"]; ok {
		t.Errorf("storyboards/c1: project.team %v is still there; the project has no owner.team", team)
	}
	for _, kept := range []string{"storyboards/a1/scenes/s1", "aiAnalyses/bad1", "aiAnalyses/bad2", "aiAnalyses/noid", "aiAnalyses/d1"} {
		if _, ok := docs[kept]; !ok {
			t.Errorf("%s was deleted", kept)
		}
	}
	again, err := f.reconciler(Options{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if again.Totals.Orphans != 0 || again.Totals.Drifted != 0 || again.Totals.Repaired != 0 {
		t.Errorf("a second run found %+v, want nothing but the invalid ids", again.Totals)
	}
}

func TestFailedLookupRepairsNothing(t *testing.T) {
	f := newFixture(t, fssync.ModeDelete)
	seedWorld(f)
	before := f.dump()
	f.srv.FailCommand("find", 10, 13) // Unauthorized: not retried
	sum, err := f.reconciler(Options{}).Run(context.Background())
	if err == nil {
		t.Fatal("Run succeeded although every lookup failed")
	}
	if errors.Is(err, ErrRepairsFailed) || len(sum.Errors) == 0 {
		t.Errorf("err = %v, errors %v: want the lookup failure", err, sum.Errors)
	}
	if sum.Totals.Orphans != 0 || sum.Totals.Repaired != 0 {
		t.Errorf("totals %+v: nothing may be found or repaired without a lookup", sum.Totals)
	}
	if after := f.dump(); !reflect.DeepEqual(after, before) {
		t.Errorf("a failed lookup changed Firestore")
	}
}

func TestChecksSelectWhatIsRepaired(t *testing.T) {
	tests := []struct {
		name         string
		checks       Checks
		orphansGone  bool
		driftRepairs bool
	}{
		{"orphans only", Checks{Orphans: true}, true, false},
		{"drift only", Checks{Drift: true}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, fssync.ModeDelete)
			seedWorld(f)
			sum, err := f.reconciler(Options{Checks: tt.checks}).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			docs := f.dump()
			_, orphanThere := docs["aiAnalyses/g2"]
			if orphanThere == tt.orphansGone {
				t.Errorf("orphan still there: %v", orphanThere)
			}
			if repaired := docs["aiAnalyses/b2"]["projectName"] == "Beta"; repaired != tt.driftRepairs {
				t.Errorf("drift repaired: %v, want %v", repaired, tt.driftRepairs)
			}
			if (sum.Totals.Orphans > 0) != tt.checks.Orphans || (sum.Totals.Drifted > 0) != tt.checks.Drift {
				t.Errorf("totals %+v for checks %+v", sum.Totals, tt.checks)
			}
		})
	}
}

func TestArchiveModeArchivesOrphansOnce(t *testing.T) {
	f := newFixture(t, fssync.ModeArchive)
	gone := bson.NewObjectID().Hex()
	f.seed(map[string]map[string]any{"aiAnalyses/g": {"projectId": gone, "projectName": "Gone"}})
	sum, err := f.reconciler(Options{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := byCollection(sum)["aiAnalyses"]; got.Orphans != 1 || got.Repaired != 1 {
		t.Errorf("aiAnalyses %+v, want 1 orphan archived", got)
	}
	if doc := f.dump()["aiAnalyses/g"]; doc[fssync.ArchivedField] != true {
		t.Errorf("orphan not archived: %v", doc)
	}
	again, err := f.reconciler(Options{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if again.Found() != 0 {
		t.Errorf("an archived orphan was found again: %+v", again.Totals)
	}
}

// hookApplier runs before on every delete it applies (a change made while the
// reconciliation runs).
type hookApplier struct {
	watcher.Applier
	before func()
}

func (h hookApplier) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	if ev.Kind != event.ProjectDeleted {
		return h.Applier.Apply(ctx, ev)
	}
	h.before()
	return h.Applier.Apply(ctx, ev)
}

func TestRepairsUseValuesReadRightBeforeThem(t *testing.T) {
	f := newFixture(t, fssync.ModeDelete)
	oid := bson.NewObjectID()
	pid, gone := oid.Hex(), bson.NewObjectID().Hex()
	f.insert(bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: "v2"}})
	f.seed(map[string]map[string]any{
		"aiAnalyses/a": {"projectId": gone, "projectName": "x"},
		"aiAnalyses/b": {"projectId": pid, "projectName": "v1"},
	})
	renamed := false
	a := hookApplier{Applier: f.applier, before: func() {
		// The project is renamed after the batch's lookup, before its repair.
		if _, err := f.projects.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: oid}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "v3"}}}}); err != nil {
			t.Error(err)
		}
		renamed = true
	}}
	if _, err := f.reconcilerWith(a, Options{}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !renamed {
		t.Fatal("the orphan was not cleaned")
	}
	if got := f.dump()["aiAnalyses/b"]["projectName"]; got != "v3" {
		t.Errorf("projectName %v, want v3 (the value when the repair ran, not at the batch's lookup)", got)
	}
}
