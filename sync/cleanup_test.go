package sync

import (
	"reflect"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
)

// assets holds two projects' documents in three collections, with
// subcollections two levels deep, plus a document with no project.
var assets = docs{
	"storyboards/sb1":                    {"projectId": "p1", "title": "one"},
	"storyboards/sb1/scenes/sc1":         {"n": int64(1)},
	"storyboards/sb1/scenes/sc1/shots/a": {"n": int64(2)},
	"storyboards/sb1/scenes/sc1/shots/b": {"n": int64(3)},
	"storyboards/sb1/scenes/sc2":         {"n": int64(4)},
	"storyboards/sb1/notes/x":            {"n": int64(5)},
	"storyboards/sb2":                    {"projectId": "p1"},
	"storyboards/sb3":                    {"projectId": "p2"},
	"storyboards/sb3/scenes/sc1":         {"n": int64(6)},
	"storyboards/sb3/scenes/sc1/shots/a": {"n": int64(7)},
	"storyboards/orphan":                 {"title": "no project"},
	"aiAnalyses/an1":                     {"projectId": "p1"},
	"aiAnalyses/an1/frames/f1":           {"n": int64(8)},
	"aiAnalyses/an2":                     {"projectId": "p2"},
	"generatedMedia/m1":                  {"projectId": "p1"},
	"generatedMedia/m2":                  {"projectId": "p1"},
	"generatedMedia/m3":                  {"projectId": "p2"},
	"other/o1":                           {"projectId": "p1"}, // not a configured collection
}

func TestDeleteProject(t *testing.T) {
	tests := []struct {
		name    string
		project string
		gone    []string
		want    map[string]event.CollectionReport
	}{
		{
			name:    "p1: recursive storyboards, flat others",
			project: "p1",
			gone: []string{
				"storyboards/sb1", "storyboards/sb1/scenes/sc1", "storyboards/sb1/scenes/sc1/shots/a",
				"storyboards/sb1/scenes/sc1/shots/b", "storyboards/sb1/scenes/sc2", "storyboards/sb1/notes/x",
				"storyboards/sb2", "aiAnalyses/an1", "generatedMedia/m1", "generatedMedia/m2",
				// aiAnalyses/an1/frames/f1 stays: aiAnalyses is not recursive
			},
			want: map[string]event.CollectionReport{
				"storyboards":    {Collection: "storyboards", Matched: 2, Deleted: 7},
				"aiAnalyses":     {Collection: "aiAnalyses", Matched: 1, Deleted: 1},
				"generatedMedia": {Collection: "generatedMedia", Matched: 2, Deleted: 2},
			},
		},
		{
			name:    "p2",
			project: "p2",
			gone: []string{
				"storyboards/sb3", "storyboards/sb3/scenes/sc1", "storyboards/sb3/scenes/sc1/shots/a",
				"aiAnalyses/an2", "generatedMedia/m3",
			},
			want: map[string]event.CollectionReport{
				"storyboards":    {Collection: "storyboards", Matched: 1, Deleted: 3},
				"aiAnalyses":     {Collection: "aiAnalyses", Matched: 1, Deleted: 1},
				"generatedMedia": {Collection: "generatedMedia", Matched: 1, Deleted: 1},
			},
		},
		{
			name:    "unknown project",
			project: "p9",
			want: map[string]event.CollectionReport{
				"storyboards":    {Collection: "storyboards"},
				"aiAnalyses":     {Collection: "aiAnalyses"},
				"generatedMedia": {Collection: "generatedMedia"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, client, _ := newApplier(t, threeCollections(ModeDelete), WithPageSize(2))
			firestoretest.SeedPaths(t, client, assets)
			ctx := testContext(t)

			rep, err := a.deleteProject(ctx, tt.project)
			if err != nil {
				t.Fatalf("deleteProject: %v", err)
			}
			if got := reportOf(rep); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("report = %+v, want %+v", got, tt.want)
			}
			want := without(assets, tt.gone...)
			assertDocs(t, client, want)

			// A replay finds nothing and changes nothing.
			rep, err = a.deleteProject(ctx, tt.project)
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			for _, c := range rep.Collections {
				if c.Matched != 0 || c.Deleted != 0 {
					t.Errorf("replay report %+v, want zero counts", c)
				}
			}
			assertDocs(t, client, want)
		})
	}
}

func TestDeleteProjectCollectionGroup(t *testing.T) {
	cfg := config.Sync{
		Workers:     1,
		IDField:     "projectId",
		Mode:        ModeDelete,
		Collections: []config.Collection{{Name: "media", Group: true, Recursive: true}},
	}
	a, client, _ := newApplier(t, cfg)
	seed := docs{
		"media/m1":                       {"projectId": "p1"},
		"media/m1/variants/v1":           {"n": int64(1)},
		"users/u1/media/m2":              {"projectId": "p1"},
		"storyboards/s1/media/m3":        {"projectId": "p1"},
		"storyboards/s1/media/m3/tags/t": {"n": int64(2)},
		"users/u2/media/m4":              {"projectId": "p2"},
		"users/u2/media/m4/variants/v1":  {"n": int64(3)},
		"users/u1":                       {"projectId": "p1"}, // not in the group
	}
	firestoretest.SeedPaths(t, client, seed)

	rep, err := a.deleteProject(testContext(t), "p1")
	if err != nil {
		t.Fatalf("deleteProject: %v", err)
	}
	want := event.CollectionReport{Collection: "media", Matched: 3, Deleted: 5}
	if len(rep.Collections) != 1 || rep.Collections[0] != want {
		t.Errorf("report = %+v, want [%+v]", rep.Collections, want)
	}
	assertDocs(t, client, without(seed, "media/m1", "media/m1/variants/v1", "users/u1/media/m2",
		"storyboards/s1/media/m3", "storyboards/s1/media/m3/tags/t"))
	if n := firestoretest.CountGroup(t, client, "media"); n != 1 {
		t.Errorf("media group holds %d documents, want 1", n)
	}
}

func TestArchiveProject(t *testing.T) {
	a, client, _ := newApplier(t, threeCollections(ModeArchive), WithPageSize(2))
	earlier := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	seed := docs{
		"storyboards/sb1":            {"projectId": "p1", "title": "one"},
		"storyboards/sb1/scenes/sc1": {"n": int64(1)},
		"storyboards/sb2":            {"projectId": "p1", "archived": true, "archivedAt": earlier},
		"storyboards/sb3":            {"projectId": "p1", "archived": false},
		"storyboards/sb4":            {"projectId": "p2"},
		"aiAnalyses/an1":             {"projectId": "p1"},
		"generatedMedia/m1":          {"projectId": "p2"},
	}
	firestoretest.SeedPaths(t, client, seed)
	ctx := testContext(t)

	rep, err := a.deleteProject(ctx, "p1")
	if err != nil {
		t.Fatalf("deleteProject: %v", err)
	}
	wantRep := map[string]event.CollectionReport{
		"storyboards":    {Collection: "storyboards", Matched: 3, Archived: 3}, // sb1, its scene, sb3
		"aiAnalyses":     {Collection: "aiAnalyses", Matched: 1, Archived: 1},
		"generatedMedia": {Collection: "generatedMedia"},
	}
	if got := reportOf(rep); !reflect.DeepEqual(got, wantRep) {
		t.Errorf("report = %+v, want %+v", got, wantRep)
	}

	after := firestoretest.Dump(t, client)
	if len(after) != len(seed) {
		t.Errorf("archive changed the number of documents: %d, want %d", len(after), len(seed))
	}
	for _, p := range []string{"storyboards/sb1", "storyboards/sb1/scenes/sc1", "storyboards/sb3", "aiAnalyses/an1"} {
		d := after[p]
		at, ok := d["archivedAt"].(time.Time)
		if d["archived"] != true || !ok || at.IsZero() || at.Equal(earlier) {
			t.Errorf("%s = %v, want archived with a fresh archivedAt", p, d)
		}
		if d["projectId"] != "p1" && d["n"] != int64(1) {
			t.Errorf("%s lost its other fields: %v", p, d)
		}
	}
	if got := after["storyboards/sb1"]["title"]; got != "one" {
		t.Errorf("storyboards/sb1 title = %v, want one", got)
	}
	for _, p := range []string{"storyboards/sb2", "storyboards/sb4", "generatedMedia/m1"} {
		if !reflect.DeepEqual(after[p], seed[p]) {
			t.Errorf("%s = %v, want it untouched: %v", p, after[p], seed[p])
		}
	}

	// A replay changes nothing: archivedAt keeps its first value.
	rep, err = a.deleteProject(ctx, "p1")
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	for _, c := range rep.Collections {
		if c.Archived != 0 || c.Deleted != 0 {
			t.Errorf("replay report %+v, want nothing archived or deleted", c)
		}
	}
	assertDocs(t, client, after)
}

func TestDeleteProjectManyPages(t *testing.T) {
	const assetsOfP1, assetsOfP2, pageSize = 2000, 30, 70
	cfg := threeCollections(ModeDelete)
	cfg.Collections = cfg.Collections[:1]
	a, client, logs := newApplier(t, cfg, WithPageSize(pageSize))
	seed := make(docs, assetsOfP1+assetsOfP2)
	for i := range assetsOfP1 {
		seed[docID("a", i)] = map[string]any{"projectId": "p1", "name": "old"}
	}
	for i := range assetsOfP2 {
		seed[docID("b", i)] = map[string]any{"projectId": "p2", "name": "old"}
	}
	firestoretest.Seed(t, client, "storyboards", seed)
	ctx := testContext(t)

	rep, err := a.deleteProject(ctx, "p1")
	if err != nil {
		t.Fatalf("deleteProject: %v", err)
	}
	want := event.CollectionReport{Collection: "storyboards", Matched: assetsOfP1, Deleted: assetsOfP1}
	if len(rep.Collections) != 1 || rep.Collections[0] != want {
		t.Errorf("report = %+v, want [%+v]", rep.Collections, want)
	}
	left := firestoretest.ReadAll(t, client, "storyboards")
	if len(left) != assetsOfP2 {
		t.Errorf("%d documents left, want the %d of p2", len(left), assetsOfP2)
	}
	for id, d := range left {
		if d["projectId"] != "p2" {
			t.Errorf("left %s of project %v", id, d["projectId"])
		}
	}
	if pages := countLines(logs.String(), `"message":"cleanup page"`, `"collection":"storyboards"`, `"component":"sync"`, `"projectId":"p1"`); pages < assetsOfP1/pageSize {
		t.Errorf("logged %d cleanup pages, want at least %d", pages, assetsOfP1/pageSize)
	}
}
