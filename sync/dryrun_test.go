package sync

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
)

func TestDryRunWritesNothing(t *testing.T) {
	for _, mode := range []string{ModeDelete, ModeArchive} {
		t.Run(mode, func(t *testing.T) {
			a, client, _ := newApplier(t, threeCollections(mode))
			ctx := testContext(t)
			all := seedProject(t, a, "p1", 3)
			logs := &watchertest.LogBuffer{}
			d := withLog(t, a, zerolog.New(logs), WithDryRun())

			rep, err := d.deleteProject(ctx, "p1")
			if err != nil {
				t.Fatal(err)
			}
			got := reportOf(rep)
			if got["storyboards"].Matched != 3 || got["aiAnalyses"].Matched != 1 || rep.Total() != 4 || got["storyboards"].Deleted != 0 {
				t.Fatalf("delete report %+v", rep)
			}
			rep, err = d.updateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Total() != 4 || reportOf(rep)["storyboards"].Updated != 0 {
				t.Fatalf("update report %+v", rep)
			}
			if _, err := d.Apply(ctx, event.Event{Kind: event.ProjectDeleted}); !errors.Is(err, event.ErrEmptyProjectID) {
				t.Fatalf("empty id: %v", err)
			}
			assertDocs(t, client, all)
			out := logs.String()
			for _, want := range []string{
				`"component":"dryrun"`, `"collection":"storyboards","matched":3,"writes":3`, `"writes":3,"set":{"projectName":"new"}`,
				fmt.Sprintf(`"action":"%s"`, mode), `"recursive":` + fmt.Sprint(mode == ModeDelete), "nothing written",
				`"collection":"aiAnalyses","matched":1,"writes":1,"action"`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("dry-run log lacks %s:\n%s", want, out)
				}
			}
		})
	}
}

// TestDryRunReportsTheLimit: a dry run behind the limit reports what the
// limit would stop (as the event would: reading), and writes nothing
// either way.
func TestDryRunReportsTheLimit(t *testing.T) {
	a, client, _ := newApplier(t, threeCollections(ModeDelete))
	ctx := testContext(t)
	all := seedProject(t, a, "p1", 3) // 4 documents of p1
	if _, err := limitedDry(t, a, 3).deleteProject(ctx, "p1"); !errors.Is(err, event.ErrSafetyLimit) || !strings.Contains(err.Error(), "more than 3 documents (4 seen") {
		t.Fatalf("dry run over the limit: %v, want a safety-limit error after 4 documents seen", err)
	}
	if _, err := limitedDry(t, a, 3).updateProject(ctx, "p1", map[string]any{"name": "new"}, nil); !errors.Is(err, event.ErrSafetyLimit) {
		t.Fatalf("dry-run update over the limit: %v", err)
	}
	rep, err := limitedDry(t, a, 4).deleteProject(ctx, "p1")
	if err != nil || rep.Total() != 4 {
		t.Fatalf("dry run within the limit: %v, report %+v", err, rep)
	}
	assertDocs(t, client, all)
}

// TestDryRunReadsAsTheEventWould: a dry run makes the event's own queries
// (one per collection here) and nothing else: no write, no subcollection
// listing, no count; behind a limit the same; above maxBufferedDocs it
// counts first, as the event would.
func TestDryRunReadsAsTheEventWould(t *testing.T) {
	client, counter := countingClient(t)
	a, err := New(client, threeCollections(ModeDelete), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	seedCounted(t, a, 3) // storyboards 3 with subcollections, aiAnalyses 1
	all := firestoretest.Dump(t, client)
	for _, tt := range []struct {
		name  string
		limit int
		want  map[string]int
	}{
		{"no limit", 0, map[string]int{"RunQuery": 3}},
		{"limit", 100, map[string]int{"RunQuery": 3}},
		{"limit above maxBufferedDocs", maxBufferedDocs + 1, map[string]int{"RunAggregationQuery": 3, "RunQuery": 3}},
	} {
		d := withOptions(t, a, WithDryRun(), WithLimit(tt.limit))
		counter.reset()
		rep, err := d.deleteProject(ctx, "p1")
		if err != nil || rep.Total() != 4 {
			t.Fatalf("%s: delete %v, report %+v", tt.name, err, rep)
		}
		if by := counter.reset(); !maps.Equal(by, tt.want) {
			t.Errorf("%s: delete calls %v, want %v", tt.name, by, tt.want)
		}
		rep, err = d.updateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
		if err != nil || rep.Total() != 4 {
			t.Fatalf("%s: update %v, report %+v", tt.name, err, rep)
		}
		if by := counter.reset(); !maps.Equal(by, tt.want) {
			t.Errorf("%s: update calls %v, want %v", tt.name, by, tt.want)
		}
	}
	assertDocs(t, client, all)
}

// TestDryRunArchiveCountsWhatItWouldWrite: in archive mode a document
// archived already is matched but would not be written.
func TestDryRunArchiveCountsWhatItWouldWrite(t *testing.T) {
	a, client, _ := newApplier(t, threeCollections(ModeArchive))
	seed := docs{
		"storyboards/s1": {"projectId": "p1"},
		"storyboards/s2": {"projectId": "p1", "archived": true},
		"storyboards/s3": {"projectId": "p1", "archived": false},
	}
	firestoretest.SeedPaths(t, client, seed)
	logs := &watchertest.LogBuffer{}
	rep, err := withLog(t, a, zerolog.New(logs), WithDryRun()).deleteProject(testContext(t), "p1")
	if err != nil || rep.Total() != 3 || reportOf(rep)["storyboards"].Archived != 0 {
		t.Fatalf("dry run: %v, report %+v", err, rep)
	}
	if want := `"collection":"storyboards","matched":3,"writes":2,"action":"archive","recursive":true`; !strings.Contains(logs.String(), want) {
		t.Errorf("dry-run log lacks %s:\n%s", want, logs.String())
	}
	assertDocs(t, client, seed)
}
