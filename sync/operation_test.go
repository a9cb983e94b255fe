package sync

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/rs/zerolog"
)

// refill is a cleanup during which another writer keeps adding documents
// of the project: after each page it writes, up to max new ones appear
// behind its cursor (their ids sort before every id read so far).
type refill struct {
	cleanup
	max   int64
	added atomic.Int64
}

func (r *refill) writePage(ctx context.Context, log zerolog.Logger, coll config.Collection, writes []write) (event.CollectionReport, error) {
	rep, err := r.cleanup.writePage(ctx, log, coll, writes)
	if n := r.added.Add(1); err == nil && n <= r.max {
		ref := r.a.client.Collection(coll.Name).Doc(fmt.Sprintf("0-%06d", 999_999-n))
		_, err = ref.Set(ctx, map[string]any{"projectId": "p1"})
	}
	return rep, err
}

// TestCleanupRepeatsPasses: a cleanup pass that took several queries and
// deleted is followed by another from the start, which finds what was
// written behind its cursor; a pass that fits one query is not repeated;
// writes that never stop end in an error after maxPasses passes. The same
// with a limit (the first pass is then the held writes).
func TestCleanupRepeatsPasses(t *testing.T) {
	const seeded = 25 // page size 1: 20 a query, so a pass takes two queries
	tests := []struct {
		name    string
		limit   int
		refills int64
		queries int // RunQuery calls
		matched int
		wantErr string
	}{
		{name: "second pass fits one query", refills: 5, queries: 2 + 1, matched: seeded + 5},
		{name: "second pass fits one query, limited", limit: 1000, refills: 5, queries: 2 + 1, matched: seeded + 5},
		{name: "writes never stop", refills: 1 << 20, queries: 3 * 2, wantErr: "still appear after 3 passes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, counter := countingClient(t)
			cfg := threeCollections(ModeDelete)
			cfg.Collections = []config.Collection{{Name: "aiAnalyses"}}
			a, err := New(client, cfg, zerolog.Nop(), WithPageSize(1), WithMaxPasses(3), WithLimit(tt.limit))
			if err != nil {
				t.Fatal(err)
			}
			seed := docs{"other": {"projectId": "p2"}}
			for i := range seeded {
				seed[docID("s", i)] = map[string]any{"projectId": "p1"}
			}
			firestoretest.Seed(t, client, "aiAnalyses", seed)
			counter.reset()

			rep, err := a.run(testContext(t), "p1", &refill{cleanup: cleanup{a: a}, max: tt.refills})
			if by := counter.reset(); by["RunQuery"] != tt.queries {
				t.Errorf("calls %v, want %d RunQuery", by, tt.queries)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c := reportOf(rep)["aiAnalyses"]; c.Matched != tt.matched || c.Deleted != tt.matched {
				t.Errorf("report %+v, want %d matched and deleted", c, tt.matched)
			}
			assertDocs(t, client, docs{"aiAnalyses/other": {"projectId": "p2"}})
		})
	}
}
