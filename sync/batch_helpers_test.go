package sync

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
)

// batchWorld is the documents of many projects, interleaved in id order
// (document d<j>-<project> is the j-th of its project, so the projects'
// documents alternate in every query's order): project number i has
// 1+i%4 storyboards (the first with a scene below it when i%3 == 0) and
// an aiAnalyses document when i is even.
type batchWorld struct {
	all    docs                // every document, by path
	paths  map[string][]string // project → its documents' paths (scenes included)
	sb     map[string]int      // project → its storyboards documents
	scenes map[string]int      // project → scene documents below them
	ai     map[string]int      // project → its aiAnalyses documents
}

func newWorld() *batchWorld {
	return &batchWorld{all: docs{}, paths: map[string][]string{}, sb: map[string]int{}, scenes: map[string]int{}, ai: map[string]int{}}
}

// addProject adds project p, number i, with n storyboards (0: 1+i%4).
func (w *batchWorld) addProject(p string, i, n int) {
	if n == 0 {
		n = 1 + i%4
	}
	for j := range n {
		path := fmt.Sprintf("storyboards/d%02d-%s", j, p)
		w.add(p, path, map[string]any{"projectId": p, "projectName": "old"})
		w.sb[p]++
		if j == 0 && i%3 == 0 {
			w.add(p, path+"/scenes/x", map[string]any{"n": int64(i)})
			w.scenes[p]++
		}
	}
	if i%2 == 0 {
		w.add(p, "aiAnalyses/a-"+p, map[string]any{"projectId": p, "projectName": "old"})
		w.ai[p]++
	}
}

func (w *batchWorld) add(p, path string, d map[string]any) {
	w.all[path] = d
	w.paths[p] = append(w.paths[p], path)
}

// seedWorld writes projects and outsiders (projects no event names, whose
// documents must stay as they are).
func seedWorld(t *testing.T, client *firestore.Client, projects, outsiders []string) *batchWorld {
	t.Helper()
	w := newWorld()
	for i, p := range append(append([]string(nil), projects...), outsiders...) {
		w.addProject(p, i, 0)
	}
	firestoretest.SeedPaths(t, client, w.all)
	return w
}

// without is every document but those of projects.
func (w *batchWorld) without(projects ...string) docs {
	out := maps.Clone(w.all)
	for _, p := range projects {
		for _, path := range w.paths[p] {
			delete(out, path)
		}
	}
	return out
}

// deleteReport is what deleting p reports.
func (w *batchWorld) deleteReport(p string) event.Report {
	return event.Report{Collections: []event.CollectionReport{
		{Collection: "storyboards", Matched: w.sb[p], Deleted: w.sb[p] + w.scenes[p]},
		{Collection: "aiAnalyses", Matched: w.ai[p], Deleted: w.ai[p]},
		{Collection: "generatedMedia"},
	}}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

func deletes(projects []string) []event.Event {
	evs := make([]event.Event, len(projects))
	for i, p := range projects {
		evs[i] = event.Event{Kind: event.ProjectDeleted, ProjectID: p}
	}
	return evs
}

// outcome is what ApplyBatch told about one event.
type outcome struct {
	rep   event.Report
	err   error
	calls int
}

// applyBatch runs a.ApplyBatch and returns each event's outcome; every
// event must be told exactly once.
func applyBatch(t *testing.T, a *Applier, evs []event.Event) []outcome {
	t.Helper()
	out := make([]outcome, len(evs))
	var mu sync.Mutex
	a.ApplyBatch(testContext(t), evs, func(i int, rep event.Report, err error) {
		mu.Lock()
		defer mu.Unlock()
		out[i].rep, out[i].err = rep, err
		out[i].calls++
	})
	for i, o := range out {
		if o.calls != 1 {
			t.Fatalf("event %d (%s) reported %d times, want once", i, evs[i].ProjectID, o.calls)
		}
	}
	return out
}

// sameReport compares two reports collection by collection.
func sameReport(t *testing.T, what string, got, want event.Report) {
	t.Helper()
	if fmt.Sprint(got.Collections) != fmt.Sprint(want.Collections) {
		t.Errorf("%s: report %+v, want %+v", what, got.Collections, want.Collections)
	}
}

// runMembers runs a group of members (their operations given) and
// returns them.
func runMembers(ctx context.Context, a *Applier, members ...*member) []*member {
	a.runGroup(ctx, members, a.pageBudget())
	return members
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
