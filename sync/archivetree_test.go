package sync

import (
	"reflect"
	"slices"
	"testing"

	"github.com/projectwatcher/watcher/internal/firestoretest"
)

// treeSeed is a project's storyboards with documents at every depth, one
// below a document that does not exist itself (a "missing" parent).
func treeSeed() docs {
	return docs{
		"storyboards/sb1":                      {"projectId": "p1"},
		"storyboards/sb1/scenes/sc1":           {"n": int64(1)},
		"storyboards/sb1/scenes/sc1/shots/x1":  {"n": int64(2)},
		"storyboards/sb1/scenes/ghost/shots/y": {"n": int64(3)}, // scenes/ghost itself does not exist
		"storyboards/sb2":                      {"projectId": "p1"},
		"storyboards/other":                    {"projectId": "p2"},
		"storyboards/other/scenes/s":           {"n": int64(4)},
	}
}

// TestArchiveCoversWhatDeleteRemoves: archive mode marks exactly the
// documents delete mode removes, subcollections at any depth included; a
// replay of the archive changes nothing.
func TestArchiveCoversWhatDeleteRemoves(t *testing.T) {
	removed := func(mode string) []string {
		t.Helper()
		a, client, _ := newApplier(t, threeCollections(mode), WithPageSize(2))
		firestoretest.SeedPaths(t, client, treeSeed())
		ctx := testContext(t)
		if _, err := a.deleteProject(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
		after := firestoretest.Dump(t, client)
		var out []string
		for path := range treeSeed() {
			d, kept := after[path]
			if mode == ModeDelete && !kept || mode == ModeArchive && d["archived"] == true {
				out = append(out, path)
			}
		}
		if mode == ModeArchive {
			before := after
			if _, err := a.deleteProject(ctx, "p1"); err != nil {
				t.Fatal(err)
			}
			for path, d := range firestoretest.Dump(t, client) {
				if !reflect.DeepEqual(d, before[path]) {
					t.Errorf("the replay changed %s: %v, was %v", path, d, before[path])
				}
			}
		}
		slices.Sort(out)
		return out
	}
	deleted, archived := removed(ModeDelete), removed(ModeArchive)
	if !slices.Equal(deleted, archived) || len(deleted) != 5 {
		t.Fatalf("delete removed %v, archive marked %v: want the same 5 documents of p1", deleted, archived)
	}
}
