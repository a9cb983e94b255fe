package sync

import (
	"testing"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
)

// TestDeleteKeepsDocumentsCreatedAfterTheCutoff: a delete whose project id
// exists again (re-created) removes only the documents created at or before
// its cutoff, with their subtrees; the new project's documents stay, in
// delete and archive mode.
func TestDeleteKeepsDocumentsCreatedAfterTheCutoff(t *testing.T) {
	for _, mode := range []string{ModeDelete, ModeArchive} {
		t.Run(mode, func(t *testing.T) {
			a, client, _ := newApplier(t, threeCollections(mode))
			ctx := testContext(t)
			firestoretest.SeedPaths(t, client, docs{
				"storyboards/old":          {"projectId": "slug"},
				"storyboards/old/scenes/1": {"n": int64(1)},
				"aiAnalyses/old":           {"projectId": "slug"},
			})
			// the deletion of the first incarnation, plus the skew
			cutoff := latestCreateTime(t, ctx, client, "storyboards/old", "aiAnalyses/old")
			firestoretest.SeedPaths(t, client, docs{
				"storyboards/new":          {"projectId": "slug"},
				"storyboards/new/scenes/1": {"n": int64(2)},
			})
			rep, err := a.Apply(ctx, event.Event{Kind: event.ProjectDeleted, ProjectID: "slug", CreatedBy: cutoff})
			if err != nil {
				t.Fatal(err)
			}
			if mode == ModeDelete {
				assertDocs(t, client, docs{
					"storyboards/new":          {"projectId": "slug"},
					"storyboards/new/scenes/1": {"n": int64(2)},
				})
				if got := reportOf(rep)["storyboards"].Deleted; got != 2 {
					t.Errorf("deleted %d in storyboards, want 2 (old and its scene)", got)
				}
				return
			}
			for path, want := range map[string]bool{"storyboards/old": true, "aiAnalyses/old": true, "storyboards/new": false} {
				s, err := client.Doc(path).Get(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := isArchived(s); got != want {
					t.Errorf("%s archived = %v, want %v", path, got, want)
				}
			}
		})
	}
}
