package e2e

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// updatePipeline runs a pipeline-style update of one project.
func (w *world) updatePipeline(ctx context.Context, pid string, pipeline bson.A) {
	w.t.Helper()
	oid, err := bson.ObjectIDFromHex(pid)
	if err != nil {
		w.t.Fatal(err)
	}
	w.write(func() error {
		_, err := w.projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, pipeline)
		return err
	})
}

// watchUpdates opens the test's own change stream of the projects, as the
// watcher opens it (showExpandedEvents), to check how the server reports
// an update.
func (w *world) watchUpdates(ctx context.Context) *mongo.ChangeStream {
	w.t.Helper()
	match := mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "operationType", Value: "update"}}}}}
	cs, err := w.projects.Watch(ctx, match, options.ChangeStream().SetShowExpandedEvents(true))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = cs.Close(context.Background()) })
	return cs
}

// nextUpdateDescription is the updateDescription of the next update event.
func nextUpdateDescription(t *testing.T, cs *mongo.ChangeStream) bson.Raw {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if !cs.Next(ctx) {
		t.Fatalf("no update event: %v", cs.Err())
	}
	return cs.Current.Lookup("updateDescription").Document()
}

// A project field literally named "owner.team" (set and removed with
// $setField/$unsetField in pipeline-style updates) is not the configured
// source path owner.team: the server names it in disambiguatedPaths, and
// the watcher must leave the copies of the nested owner.team alone; a
// change of the nested field still reaches them.
func TestLiteralDottedFieldIsNotTheNestedPath(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	pid := w.addProject(ctx, "dots", "red", 2, false)
	stream := w.watchUpdates(ctx)
	d := startDaemon(t, w.setup())
	d.waitReady(30 * time.Second)

	literal := func(op string, value any) bson.A {
		args := bson.D{{Key: "field", Value: "owner.team"}, {Key: "input", Value: "$$ROOT"}}
		if op == "$setField" {
			args = append(args, bson.E{Key: "value", Value: value})
		}
		return bson.A{bson.D{{Key: "$replaceWith", Value: bson.D{{Key: op, Value: args}}}}}
	}
	w.updatePipeline(ctx, pid, literal("$setField", "literal 1"))
	w.updatePipeline(ctx, pid, literal("$setField", "literal 2"))
	w.updatePipeline(ctx, pid, literal("$unsetField", nil))
	// The server reports each as a change of the field "owner.team".
	for i, key := range []string{"updatedFields", "updatedFields", "removedFields"} {
		ud := nextUpdateDescription(t, stream)
		dis, err := ud.LookupErr("disambiguatedPaths", "owner.team")
		if err != nil {
			t.Fatalf("fixture: update %d: no disambiguatedPaths for owner.team: %s", i+1, ud)
		}
		if parts, _ := dis.Array().Values(); len(parts) != 1 || parts[0].StringValue() != "owner.team" {
			t.Fatalf("fixture: update %d: disambiguatedPaths.owner.team = %s, want [\"owner.team\"]", i+1, dis)
		}
		if _, err := ud.LookupErr(key); err != nil {
			t.Fatalf("fixture: update %d has no %s: %s", i+1, key, ud)
		}
	}
	// A later rename marks when the watcher has applied the three updates.
	w.updateProject(ctx, pid, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "dots 2"}}}})
	sb := "storyboards/" + pid + "-sb-0"
	eventually(t, applyTimeout, func(ctx context.Context) error {
		if got := w.field(ctx, sb, "projectName"); got != "dots 2" {
			return fmt.Errorf("projectName = %v, want dots 2", got)
		}
		return nil
	})
	if got := w.field(ctx, sb, "project.team"); got != "red" {
		t.Fatalf("project.team = %v after changes of the literal field \"owner.team\", want the nested owner.team, red", got)
	}
	if err := w.consistent(ctx); err != nil {
		t.Fatal(err)
	}
	w.updateProject(ctx, pid, bson.D{{Key: "$set", Value: bson.D{{Key: "owner.team", Value: "blue"}}}})
	eventually(t, applyTimeout, func(ctx context.Context) error {
		if got := w.field(ctx, sb, "project.team"); got != "blue" {
			return fmt.Errorf("project.team = %v, want blue", got)
		}
		return w.consistent(ctx)
	})
	d.stop()
}

// An array shortened by a pipeline-style update comes as truncatedArrays
// (with no new value in updatedFields): the watcher must read the new
// array back from MongoDB and copy it.
func TestTruncatedArrayIsCopiedFromMongoDB(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	pid := w.addProject(ctx, "arrays", "red", 2, false)
	stream := w.watchUpdates(ctx)
	fields := `[{"source": "name", "target": "projectName"},` +
		`{"source": "owner.team", "target": "project.team", "collections": ["storyboards"]},` +
		`{"source": "owner.members", "target": "project.members", "collections": ["storyboards"]}]`
	d := startDaemon(t, w.setup(), "WATCHER_SYNC_FIELDS="+fields)
	d.waitReady(30 * time.Second)

	members := bson.A{}
	for i := range 10 {
		members = append(members, fmt.Sprintf("member number %d of the team, with a long enough name", i))
	}
	sb := "storyboards/" + pid + "-sb-1"
	wantMembers := func(want bson.A) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			got, _ := w.field(ctx, sb, "project.members").([]any)
			if !reflect.DeepEqual(got, []any(want)) {
				return fmt.Errorf("project.members = %v, want %v", got, want)
			}
			return nil
		}
	}
	w.updateProject(ctx, pid, bson.D{{Key: "$set", Value: bson.D{{Key: "owner.members", Value: members}}}})
	_ = nextUpdateDescription(t, stream)
	eventually(t, applyTimeout, wantMembers(members))

	w.updatePipeline(ctx, pid, bson.A{bson.D{{Key: "$set", Value: bson.D{{Key: "owner.members", Value: bson.D{{Key: "$literal", Value: members[:3]}}}}}}})
	ud := nextUpdateDescription(t, stream)
	trunc, err := ud.LookupErr("truncatedArrays")
	if err != nil {
		t.Fatalf("fixture: no truncatedArrays: %s", ud)
	}
	entries, _ := trunc.Array().Values()
	if len(entries) != 1 || entries[0].Document().Lookup("field").StringValue() != "owner.members" ||
		entries[0].Document().Lookup("newSize").AsInt64() != 3 {
		t.Fatalf("fixture: truncatedArrays = %s, want [{field: owner.members, newSize: 3}]", trunc)
	}
	if updated := ud.Lookup("updatedFields").Document(); len(updated) > 5 {
		t.Fatalf("fixture: updatedFields = %s, want none (the truncation alone)", updated)
	}
	eventually(t, applyTimeout, wantMembers(members[:3]))
	if err := w.consistent(ctx); err != nil {
		t.Fatal(err)
	}
	d.stop()
}
