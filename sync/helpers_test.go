package sync

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
)

type docs = map[string]map[string]any

// threeCollections is the usual test config: storyboards recursive,
// aiAnalyses not, generatedMedia not; name copied as projectName everywhere.
func threeCollections(mode string) config.Sync {
	return config.Sync{
		IDField: "projectId",
		Mode:    mode,
		Workers: 2,
		Collections: []config.Collection{
			{Name: "storyboards", Recursive: true},
			{Name: "aiAnalyses"},
			{Name: "generatedMedia"},
		},
		Fields: []config.Field{{Source: "name", Target: "projectName"}},
	}
}

// newApplier returns an Applier on a fresh emulator project and a buffer
// holding its debug log.
func newApplier(t *testing.T, cfg config.Sync, opts ...Option) (*Applier, *firestore.Client, *watchertest.LogBuffer) {
	t.Helper()
	client, _ := firestoretest.Client(t)
	logs := &watchertest.LogBuffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel)
	a, err := New(client, cfg, log, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, client, logs
}

// latestCreateTime is the newest Firestore create time of the documents at
// paths (the deletion time a re-created id's cleanup is cut at, in tests).
func latestCreateTime(t *testing.T, ctx context.Context, client *firestore.Client, paths ...string) time.Time {
	t.Helper()
	var latest time.Time
	for _, path := range paths {
		snap, err := client.Doc(path).Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if snap.CreateTime.After(latest) {
			latest = snap.CreateTime
		}
	}
	return latest
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// without returns all minus the paths listed.
func without(all docs, paths ...string) docs {
	out := maps.Clone(all)
	for _, p := range paths {
		delete(out, p)
	}
	return out
}

func sortedKeys(m docs) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// assertDocs compares the whole project's content with want.
func assertDocs(t *testing.T, client *firestore.Client, want docs) {
	t.Helper()
	got := firestoretest.Dump(t, client)
	if reflect.DeepEqual(got, want) {
		return
	}
	for _, p := range sortedKeys(want) {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("missing %s (want %v)", p, want[p])
		case !reflect.DeepEqual(g, want[p]):
			t.Errorf("%s = %v, want %v", p, g, want[p])
		}
	}
	for _, p := range sortedKeys(got) {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected %s = %v", p, got[p])
		}
	}
}

// reportOf indexes a report by collection.
func reportOf(r event.Report) map[string]event.CollectionReport {
	out := map[string]event.CollectionReport{}
	for _, c := range r.Collections {
		out[c.Collection] = c
	}
	return out
}

func docID(prefix string, i int) string { return fmt.Sprintf("%s%05d", prefix, i) }

// countLines counts the lines of s holding every one of parts.
func countLines(s string, parts ...string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// withOptions is another applier over a's client and config, with opts.
func withOptions(t *testing.T, a *Applier, opts ...Option) *Applier {
	t.Helper()
	return withLog(t, a, a.log, opts...)
}

// withLog is withOptions logging to log (a's options, then opts).
func withLog(t *testing.T, a *Applier, log zerolog.Logger, opts ...Option) *Applier {
	t.Helper()
	same := func(o *options) { *o = a.opts }
	b, err := New(a.client, a.cfg, log, append([]Option{same}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// limitedDry is a dry run over a's client and config behind a limit of n.
func limitedDry(t *testing.T, a *Applier, n int) *Applier {
	t.Helper()
	return withOptions(t, a, WithDryRun(), WithLimit(n))
}
