package sync

import (
	"errors"
	"reflect"
	"testing"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
)

func TestCountProject(t *testing.T) {
	a, client, _ := newApplier(t, threeCollections(ModeDelete))
	firestoretest.SeedPaths(t, client, assets)
	ctx := testContext(t)
	tests := []struct {
		project string
		want    map[string]event.CollectionReport
		total   int
	}{
		{"p1", map[string]event.CollectionReport{
			"storyboards":    {Collection: "storyboards", Matched: 2},
			"aiAnalyses":     {Collection: "aiAnalyses", Matched: 1},
			"generatedMedia": {Collection: "generatedMedia", Matched: 2},
		}, 5},
		{"p2", map[string]event.CollectionReport{
			"storyboards":    {Collection: "storyboards", Matched: 1},
			"aiAnalyses":     {Collection: "aiAnalyses", Matched: 1},
			"generatedMedia": {Collection: "generatedMedia", Matched: 1},
		}, 3},
		{"p9", map[string]event.CollectionReport{
			"storyboards":    {Collection: "storyboards"},
			"aiAnalyses":     {Collection: "aiAnalyses"},
			"generatedMedia": {Collection: "generatedMedia"},
		}, 0},
	}
	for _, tt := range tests {
		rep, err := a.CountProject(ctx, tt.project)
		if err != nil {
			t.Fatalf("CountProject(%s): %v", tt.project, err)
		}
		if got := reportOf(rep); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("CountProject(%s) = %+v, want %+v", tt.project, got, tt.want)
		}
		if rep.Total() != tt.total {
			t.Errorf("CountProject(%s).Total() = %d, want %d", tt.project, rep.Total(), tt.total)
		}
	}
	if _, err := a.CountProject(ctx, ""); !errors.Is(err, event.ErrEmptyProjectID) {
		t.Errorf("CountProject(\"\") error = %v, want ErrEmptyProjectID", err)
	}
	assertDocs(t, client, assets) // counting changes nothing
}
