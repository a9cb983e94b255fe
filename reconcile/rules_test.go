package reconcile

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/projectwatcher/watcher/event"
	fssync "github.com/projectwatcher/watcher/sync"
	"github.com/projectwatcher/watcher/watcher"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The existence rules of the stream hold in reconciliation: a repair is
// prepared right before it is applied, and nothing is written for a project
// id that a live project has in the other form, or has again.

// TestUppercaseHexIDIsInvalidNotAnOrphan: an asset whose projectId is a
// live ObjectID's hex in uppercase is reported invalid and left alone (the
// watcher writes lowercase hex; the project lives).
func TestUppercaseHexIDIsInvalidNotAnOrphan(t *testing.T) {
	f := newFixture(t, fssync.ModeDelete)
	oid := bson.NewObjectID()
	f.insert(bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: "Alpha"}})
	upper := strings.ToUpper(oid.Hex())
	f.seed(map[string]map[string]any{"aiAnalyses/u": {"projectId": upper, "projectName": "Alpha"}})
	before := f.dump()
	sum, err := f.reconciler(Options{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.Totals; got.Invalid != 1 || got.Orphans != 0 || got.Repaired != 0 {
		t.Errorf("totals %+v, want the document invalid, no orphan, nothing repaired", got)
	}
	if !reflect.DeepEqual(sum.InvalidDocs, []string{"aiAnalyses/u"}) {
		t.Errorf("InvalidDocs = %v, want aiAnalyses/u", sum.InvalidDocs)
	}
	if after := f.dump(); !reflect.DeepEqual(after, before) {
		t.Errorf("the asset was changed: %v", after)
	}
}

// TestTwinsDriftIsNotWritten: an ObjectID project and a string project
// holding its hex share one projectId; their assets' copies are not
// rewritten (either project's name could be meant): the repair is skipped
// as project-exists and listed in the summary.
func TestTwinsDriftIsNotWritten(t *testing.T) {
	f := newFixture(t, fssync.ModeDelete)
	oid := bson.NewObjectID()
	f.insert(bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: "Object"}},
		bson.D{{Key: "_id", Value: oid.Hex()}, {Key: "name", Value: "String"}})
	f.seed(map[string]map[string]any{"aiAnalyses/t": {"projectId": oid.Hex(), "projectName": "Old"}})
	sum, err := f.reconciler(Options{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.Totals; got.Drifted != 1 || got.Skipped != 1 || got.Repaired != 0 || got.Failed != 0 {
		t.Errorf("totals %+v, want 1 drifted, its repair skipped", got)
	}
	if len(sum.Skips) != 1 || !strings.Contains(sum.Skips[0], event.ReasonProjectExists) || !strings.Contains(sum.Skips[0], oid.Hex()) {
		t.Errorf("Skips = %q, want the project and %s", sum.Skips, event.ReasonProjectExists)
	}
	if got := f.dump()["aiAnalyses/t"]["projectName"]; got != "Old" {
		t.Errorf("projectName %v: a twin's copy was rewritten", got)
	}
}

// beforeApply runs before every event the wrapped applier applies, once
// per kind and project (a change made while the reconciliation runs,
// after the batch's lookup).
type beforeApply struct {
	watcher.Applier
	before func(ev event.Event)
}

func (b beforeApply) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	b.before(ev)
	return b.Applier.Apply(ctx, ev)
}

// TestOrphanWhoseProjectAppearsIsNotDeleted: two orphans of one batch;
// while the first is cleaned up, the second one's project is created (in
// the other id form for one, again with the same id for the other). Their
// assets stay: the check runs right before each cleanup, not once per
// batch.
func TestOrphanWhoseProjectAppearsIsNotDeleted(t *testing.T) {
	f := newFixture(t, fssync.ModeDelete)
	twin := bson.NewObjectID()
	first, again := "0-gone", "b-recreated" // "0-gone" sorts first: it is cleaned up first
	f.seed(map[string]map[string]any{
		"aiAnalyses/1": {"projectId": first},
		"aiAnalyses/2": {"projectId": again},
		"aiAnalyses/3": {"projectId": twin.Hex()},
	})
	created := false
	a := beforeApply{Applier: f.applier, before: func(ev event.Event) {
		if ev.ProjectID != first || created {
			return
		}
		created = true
		f.insert(bson.D{{Key: "_id", Value: again}}, bson.D{{Key: "_id", Value: twin}})
	}}
	sum, err := f.reconcilerWith(a, Options{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("the first orphan was not cleaned up")
	}
	docs := f.dump()
	if _, ok := docs["aiAnalyses/1"]; ok {
		t.Error("the orphan of a gone project is still there")
	}
	for _, kept := range []string{"aiAnalyses/2", "aiAnalyses/3"} {
		if _, ok := docs[kept]; !ok {
			t.Errorf("%s was deleted although its project exists by the time of its cleanup", kept)
		}
	}
	if got := sum.Totals; got.Orphans != 3 || got.Skipped != 2 || got.RepairedOrphans != 1 {
		t.Errorf("totals %+v, want 3 orphans found, 1 cleaned, 2 skipped", got)
	}
}

// TestDriftRepairReadsEachProjectRightBeforeIt: two drifted projects of one
// batch; while the first is repaired, the second is renamed (and the
// daemon, say, copies the new name). The second repair writes the new name:
// each project is read right before its own repair, not once per batch.
func TestDriftRepairReadsEachProjectRightBeforeIt(t *testing.T) {
	f := newFixture(t, fssync.ModeDelete)
	f.insert(bson.D{{Key: "_id", Value: "proj-a"}, {Key: "name", Value: "A"}},
		bson.D{{Key: "_id", Value: "proj-b"}, {Key: "name", Value: "B1"}})
	f.seed(map[string]map[string]any{
		"aiAnalyses/a": {"projectId": "proj-a", "projectName": "stale"},
		"aiAnalyses/b": {"projectId": "proj-b", "projectName": "stale"},
	})
	renamed := false
	a := beforeApply{Applier: f.applier, before: func(ev event.Event) {
		if ev.ProjectID != "proj-a" || renamed {
			return
		}
		renamed = true
		if _, err := f.projects.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: "proj-b"}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "B2"}}}}); err != nil {
			t.Error(err)
		}
		f.seed(map[string]map[string]any{"aiAnalyses/b": {"projectId": "proj-b", "projectName": "B2"}})
	}}
	if _, err := f.reconcilerWith(a, Options{}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !renamed {
		t.Fatal("proj-a was not repaired")
	}
	docs := f.dump()
	if got := docs["aiAnalyses/b"]["projectName"]; got != "B2" {
		t.Errorf("proj-b's projectName %v, want B2 (read right before its repair, not with the batch)", got)
	}
	if got := docs["aiAnalyses/a"]["projectName"]; got != "A" {
		t.Errorf("proj-a's projectName %v, want A", got)
	}
}
