package sync

import (
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
		rep, err := a.countProject(ctx, a.cfg.Collections, tt.project)
		if err != nil {
			t.Fatalf("countProject(%s): %v", tt.project, err)
		}
		if got := reportOf(rep); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("countProject(%s) = %+v, want %+v", tt.project, got, tt.want)
		}
		if rep.Total() != tt.total {
			t.Errorf("countProject(%s).Total() = %d, want %d", tt.project, rep.Total(), tt.total)
		}
	}
	assertDocs(t, client, assets) // counting changes nothing
}
