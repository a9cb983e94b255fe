package demo

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/firestoretest"
)

// TestDemoScript runs `make demo`'s script non-interactively (as
// -exit-after-script does) against the emulator and checks the counts it
// shows, so that the demo cannot rot.
func TestDemoScript(t *testing.T) {
	_, projectID := firestoretest.Client(t) // its own project on the emulator, dropped afterwards
	root, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := Run(ctx, Options{Root: root, FirestoreProject: projectID, Out: &out})
	if err != nil {
		t.Fatalf("Run: %v\noutput:\n%s", err, out.String())
	}
	if len(res.Before) != 3 || len(res.After) != 3 {
		t.Fatalf("result %+v, want three projects before and after", res)
	}
	docs := func(sb, frames, ai, media int) map[string]int {
		return map[string]int{"storyboards": sb, "storyboards/frames": frames, "aiAnalyses": ai, "generatedMedia": media}
	}
	want := Result{
		Before: []State{
			{Project: "Moon landing", Label: "deleted", Docs: docs(4, 8, 3, 5), Names: []string{"Moon landing"}},
			{Project: "Ocean film", Label: "renamed", Docs: docs(3, 3, 2, 2), Names: []string{"Ocean film"}},
			{Project: "City timelapse", Label: "untouched", Docs: docs(2, 2, 2, 1), Names: []string{"City timelapse"}},
		},
		After: []State{
			{Project: "Moon landing", Label: "deleted", Docs: docs(0, 0, 0, 0)},
			{Project: "Ocean film", Label: "renamed", Docs: docs(3, 3, 2, 2), Names: []string{"Ocean documentary"}},
			{Project: "City timelapse", Label: "untouched", Docs: docs(2, 2, 2, 1), Names: []string{"City timelapse"}},
		},
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("counts\n got %+v\nwant %+v", res, want)
	}
	text := out.String()
	for _, w := range []string{"== Seeded three projects", "== Deleting project \"Moon landing\"", "== After:", "  watcher | "} {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if n := strings.Count(text, "event applied"); n != 2 {
		t.Errorf("output shows %d \"event applied\" lines of the watcher, want 2 (the delete and the rename)", n)
	}
	if strings.Contains(text, "Press Ctrl-C") {
		t.Error("a run without Stay printed the instructions for staying")
	}
	if t.Failed() {
		t.Logf("output:\n%s", text)
	}
}
