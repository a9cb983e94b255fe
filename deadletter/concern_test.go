package deadletter

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	mevent "go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// sentCommands records the commands the driver sends, by name.
type sentCommands struct {
	mu   sync.Mutex
	sent []bson.Raw
}

func (c *sentCommands) started(_ context.Context, e *mevent.CommandStartedEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, append(bson.Raw(nil), e.Command...))
}

func (c *sentCommands) named(names ...string) []bson.Raw {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []bson.Raw
	for _, cmd := range c.sent {
		els, err := cmd.Elements()
		if err != nil || len(els) == 0 {
			continue
		}
		for _, n := range names {
			if els[0].Key() == n {
				out = append(out, cmd)
			}
		}
	}
	return out
}

// TestStoreWritesWithMajorityAndReadsThePrimary: whatever the URI asks
// (w=1, secondaries preferred), dead letters are written with majority
// write concern, as checkpoints are, and read on the primary with majority
// read concern: "dlq retry" applies what it reads.
func TestStoreWritesWithMajorityAndReadsThePrimary(t *testing.T) {
	ctx := context.Background()
	uri, _ := mongotest.ForTest(t)
	rec := &sentCommands{}
	client, err := mongo.Connect(mongotest.ClientOptions(uri + "&w=1&readPreference=secondaryPreferred").
		SetMonitor(&mevent.CommandMonitor{Started: rec.started}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	s := New(client.Database(mongotest.DBName(t)).Collection("deadLetters"))

	l := letter("T1", "p1", 10)
	if err := s.Add(ctx, l); err != nil {
		t.Fatal(err)
	}
	id := ID(l.Token)
	if err := s.RecordFailure(ctx, id, context.DeadlineExceeded, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveAll(ctx); err != nil {
		t.Fatal(err)
	}

	writes := rec.named("update", "delete")
	if len(writes) != 4 {
		t.Fatalf("%d writes sent, want 4 (add, record failure, remove, remove all)", len(writes))
	}
	for _, cmd := range writes {
		if w, err := cmd.LookupErr("writeConcern", "w"); err != nil || w.Type != bson.TypeString || w.StringValue() != "majority" {
			t.Errorf("write sent without majority write concern: %v", cmd)
		}
	}
	reads := rec.named("find")
	if len(reads) != 2 {
		t.Fatalf("%d finds sent, want 2 (get, list)", len(reads))
	}
	for _, cmd := range reads {
		if mode, err := cmd.LookupErr("$readPreference", "mode"); err == nil && mode.String() != `"primary"` {
			t.Errorf("read sent with read preference %s, want the primary: %v", mode, cmd)
		}
		if level, err := cmd.LookupErr("readConcern", "level"); err != nil || level.String() != `"majority"` {
			t.Errorf("read sent without majority read concern: %v", cmd)
		}
	}
}
