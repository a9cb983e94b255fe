package source

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"go.mongodb.org/mongo-driver/v2/bson"
	mevent "go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// commands records what the driver sends.
type commands struct {
	mu   sync.Mutex
	sent []bson.Raw
}

func (c *commands) started(_ context.Context, e *mevent.CommandStartedEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.CommandName == "find" {
		c.sent = append(c.sent, append(bson.Raw(nil), e.Command...))
	}
}

func (c *commands) finds() []bson.Raw {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bson.Raw(nil), c.sent...)
}

// monitoredProjects is a projects collection on a client whose URI asks for
// secondaries, recording the finds it sends.
func monitoredProjects(t *testing.T) (*mongo.Collection, *commands) {
	t.Helper()
	uri, _ := mongotest.ForTest(t)
	rec := &commands{}
	opts := mongotest.ClientOptions(uri).SetReadPreference(nil).ApplyURI(uri + "&readPreference=secondaryPreferred").
		SetMonitor(&mevent.CommandMonitor{Started: rec.started})
	client, err := mongo.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	db := client.Database(mongotest.DBName(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
	})
	return db.Collection("projects"), rec
}

func TestCheckRules(t *testing.T) {
	coll, _ := watchertest.Projects(t)
	ctx := watchertest.Context(t, 30*time.Second)
	oid := bson.NewObjectID()
	twinOfString := bson.NewObjectID()
	for _, doc := range []bson.D{
		{{Key: "_id", Value: oid}},                // an ObjectID project
		{{Key: "_id", Value: twinOfString.Hex()}}, // a string project holding an ObjectID's hex
		{{Key: "_id", Value: "slug-recreated"}},   // a string id, re-created
	} {
		if _, err := coll.InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	wall := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	r := NewResolver(coll, WithCreateTimeSkew(2*time.Second))
	cases := []struct {
		name      string
		kind      event.Kind
		id        any
		wantErr   error
		createdBy time.Time
	}{
		{"delete of a gone project", event.ProjectDeleted, "slug-gone", nil, time.Time{}},
		{"delete of a re-created id", event.ProjectDeleted, "slug-recreated", nil, wall.Add(2 * time.Second)},
		{"delete of a string id whose ObjectID twin lives", event.ProjectDeleted, oid.Hex(), event.ErrProjectExists, time.Time{}},
		{"update of a string id whose ObjectID twin lives", event.ProjectUpdated, oid.Hex(), event.ErrProjectExists, time.Time{}},
		{"delete of an ObjectID whose string twin lives", event.ProjectDeleted, twinOfString, event.ErrProjectExists, time.Time{}},
		{"update of an ObjectID with no twin", event.ProjectUpdated, bson.NewObjectID(), nil, time.Time{}},
		{"update of a live ObjectID project", event.ProjectUpdated, oid, nil, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := event.Event{Kind: c.kind, ProjectID: projectIDOf(c.id), DocumentID: watchertest.IDValue(c.id), WallTime: wall}
			err := r.Check(ctx, &ev)
			if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Fatalf("Check = %v, want %v", err, c.wantErr)
			}
			if !ev.CreatedBy.Equal(c.createdBy) {
				t.Fatalf("CreatedBy = %v, want %v", ev.CreatedBy, c.createdBy)
			}
		})
	}
}

func projectIDOf(id any) string {
	if oid, ok := id.(bson.ObjectID); ok {
		return oid.Hex()
	}
	return id.(string)
}

// TestDecisionReadsGoToThePrimary: the reads that decide what to write go
// to the primary with majority read concern, whatever the URI asks.
func TestDecisionReadsGoToThePrimary(t *testing.T) {
	coll, rec := monitoredProjects(t)
	ctx := watchertest.Context(t, 30*time.Second)
	oid := bson.NewObjectID()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "meta", Value: bson.D{{Key: "t", Value: "x"}}}}); err != nil {
		t.Fatal(err)
	}
	r := NewResolver(coll)
	ev := event.Event{Kind: event.ProjectUpdated, ProjectID: oid.Hex(), DocumentID: watchertest.IDValue(oid), Lookup: []string{"meta"}}
	if err := r.Resolve(ctx, &ev); err != nil {
		t.Fatal(err)
	}
	del := event.Event{Kind: event.ProjectDeleted, ProjectID: "gone", DocumentID: watchertest.IDValue("gone")}
	if err := r.Check(ctx, &del); err != nil {
		t.Fatal(err)
	}
	finds := rec.finds()
	if len(finds) != 2 {
		t.Fatalf("%d finds sent, want 2 (the lookup and the check)", len(finds))
	}
	for _, cmd := range finds {
		if mode, err := cmd.LookupErr("$readPreference", "mode"); err == nil && mode.StringValue() != "primary" {
			t.Errorf("find sent with read preference %s, want the primary: %v", mode, cmd)
		}
		if level, err := cmd.LookupErr("readConcern", "level"); err != nil || level.StringValue() != "majority" {
			t.Errorf("find sent without majority read concern: %v", cmd)
		}
	}
}
