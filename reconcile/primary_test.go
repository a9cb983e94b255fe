package reconcile

import (
	"context"
	"sync"
	"testing"

	"github.com/projectwatcher/watcher/internal/mongotest"
	fssync "github.com/projectwatcher/watcher/sync"
	"go.mongodb.org/mongo-driver/v2/bson"
	mevent "go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// finds records the find commands the driver sends.
type finds struct {
	mu   sync.Mutex
	sent []bson.Raw
}

func (f *finds) started(_ context.Context, e *mevent.CommandStartedEvent) {
	if e.CommandName != "find" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, append(bson.Raw(nil), e.Command...))
}

func (f *finds) all() []bson.Raw {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bson.Raw(nil), f.sent...)
}

// TestLookupsGoToThePrimary: the lookups that decide what is an orphan go
// to the primary with majority read concern, although the URI asks for
// secondaries (a secondary could answer "no project" for a project just
// created, and its assets would be deleted).
func TestLookupsGoToThePrimary(t *testing.T) {
	rec := &finds{}
	f := newFixtureWith(t, fssync.ModeDelete, func(uri string) *options.ClientOptions {
		return mongotest.ClientOptions(uri + "&readPreference=secondaryPreferred").
			SetMonitor(&mevent.CommandMonitor{Started: rec.started})
	})
	oid := bson.NewObjectID()
	f.insert(bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: "Alpha"}})
	f.seed(map[string]map[string]any{
		"aiAnalyses/a": {"projectId": oid.Hex(), "projectName": "Alpha"},
		"aiAnalyses/g": {"projectId": "gone", "projectName": "x"},
	})
	if _, err := f.reconciler(Options{DryRun: true}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sent := rec.all()
	lookups := 0
	for _, cmd := range sent {
		if coll, ok := cmd.Lookup("find").StringValueOK(); !ok || coll != "projects" {
			continue
		}
		lookups++
		if mode, err := cmd.LookupErr("$readPreference", "mode"); err == nil && mode.StringValue() != "primary" {
			t.Errorf("lookup sent with read preference %s, want the primary: %v", mode, cmd)
		}
		if level, err := cmd.LookupErr("readConcern", "level"); err != nil || level.StringValue() != "majority" {
			t.Errorf("lookup sent without majority read concern: %v", cmd)
		}
	}
	if lookups == 0 {
		t.Fatalf("no lookup of the projects was sent (%d finds)", len(sent))
	}
}
