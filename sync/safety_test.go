package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/rs/zerolog"
)

// seedProject writes n documents of project p in storyboards and one in
// aiAnalyses, plus one document of another project.
func seedProject(t *testing.T, a *Applier, p string, n int) docs {
	t.Helper()
	all := docs{}
	sb := map[string]map[string]any{}
	for i := 0; i < n; i++ {
		d := map[string]any{"projectId": p, "projectName": "old"}
		sb[docID("s", i)] = d
		all["storyboards/"+docID("s", i)] = d
	}
	sb["other"] = map[string]any{"projectId": "other", "projectName": "keep"}
	all["storyboards/other"] = sb["other"]
	firestoretest.Seed(t, a.client, "storyboards", sb)
	ai := map[string]map[string]any{"a1": {"projectId": p, "projectName": "old"}}
	firestoretest.Seed(t, a.client, "aiAnalyses", ai)
	all["aiAnalyses/a1"] = ai["a1"]
	return all
}

func TestLimitedStopsBeforeWriting(t *testing.T) {
	tests := []struct {
		name    string
		limit   int
		update  bool
		wantErr bool
	}{
		{"delete over the limit", 3, false, true},
		{"update over the limit", 3, true, true},
		{"delete at the limit", 4, false, false},
		{"no limit", 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, client, _ := newApplier(t, threeCollections(ModeDelete))
			ctx := testContext(t)
			all := seedProject(t, a, "p1", 3) // 3 + 1 = 4 documents
			l := withOptions(t, a, WithLimit(tt.limit))
			var err error
			if tt.update {
				_, err = l.UpdateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
			} else {
				_, err = l.DeleteProject(ctx, "p1")
			}
			if got := errors.Is(err, event.ErrSafetyLimit); got != tt.wantErr {
				t.Fatalf("err = %v, want safety limit: %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if !strings.Contains(err.Error(), "more than 3 documents") {
					t.Errorf("error %q does not say how many documents", err)
				}
				assertDocs(t, client, all) // nothing written
				return
			}
			assertDocs(t, client, docs{"storyboards/other": all["storyboards/other"]})
		})
	}
}

func TestOverLimitCountFailure(t *testing.T) {
	boom := errors.New("unavailable")
	failingCount := func(context.Context, string) (event.Report, error) { return event.Report{}, boom }
	_, err := overLimit(context.Background(), failingCount, "p1", 10)
	if !errors.Is(err, boom) || errors.Is(err, event.ErrSafetyLimit) {
		t.Fatalf("err %v: want the count error, not a safety-limit error", err)
	}
	if _, err := overLimit(context.Background(), failingCount, "p1", 0); err != nil {
		t.Fatalf("no limit: %v, want no count at all", err)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	for _, mode := range []string{ModeDelete, ModeArchive} {
		t.Run(mode, func(t *testing.T) {
			a, client, _ := newApplier(t, threeCollections(mode))
			ctx := testContext(t)
			all := seedProject(t, a, "p1", 3)
			logs := &logBuffer{}
			d := withLog(t, a, zerolog.New(logs), WithDryRun())

			rep, err := d.DeleteProject(ctx, "p1")
			if err != nil {
				t.Fatal(err)
			}
			got := reportOf(rep)
			if got["storyboards"].Matched != 3 || got["aiAnalyses"].Matched != 1 || rep.Total() != 4 || got["storyboards"].Deleted != 0 {
				t.Fatalf("delete report %+v", rep)
			}
			rep, err = d.UpdateProject(ctx, "p1", map[string]any{"name": "new"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Total() != 4 || reportOf(rep)["storyboards"].Updated != 0 {
				t.Fatalf("update report %+v", rep)
			}
			if _, err := d.DeleteProject(ctx, ""); !errors.Is(err, event.ErrEmptyProjectID) {
				t.Fatalf("empty id: %v", err)
			}
			assertDocs(t, client, all)
			out := logs.String()
			for _, want := range []string{
				`"component":"dryrun"`, `"collection":"storyboards","matched":3`, `"projectName":"new"`,
				fmt.Sprintf(`"action":"%s"`, mode), "nothing written",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("dry-run log lacks %s:\n%s", want, out)
				}
			}
		})
	}
}

// TestDryRunReportsTheLimit: a dry run behind the limit reports what the
// limit would stop (counting), and writes nothing either way.
func TestDryRunReportsTheLimit(t *testing.T) {
	a, client, _ := newApplier(t, threeCollections(ModeDelete))
	ctx := testContext(t)
	all := seedProject(t, a, "p1", 3) // 4 documents of p1
	if _, err := limitedDry(t, a, 3).DeleteProject(ctx, "p1"); !errors.Is(err, event.ErrSafetyLimit) || !strings.Contains(err.Error(), "4 documents (limit 3)") {
		t.Fatalf("dry run over the limit: %v, want a safety-limit error counting 4 documents", err)
	}
	if _, err := limitedDry(t, a, 3).UpdateProject(ctx, "p1", map[string]any{"name": "new"}, nil); !errors.Is(err, event.ErrSafetyLimit) {
		t.Fatalf("dry-run update over the limit: %v", err)
	}
	rep, err := limitedDry(t, a, 4).DeleteProject(ctx, "p1")
	if err != nil || rep.Total() != 4 {
		t.Fatalf("dry run within the limit: %v, report %+v", err, rep)
	}
	assertDocs(t, client, all)
}
