package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// deadLetterCollection is where the bad-input test has the daemon park
// failed events (in the world's database).
const deadLetterCollection = "deadLetters"

// badCase is one piece of bad input. After the daemon has had its chance,
// each must end applied or dead-lettered: never silently dropped.
type badCase struct {
	name string
	// id is the project's _id as stored in MongoDB.
	id any
	// events is how many change events of this project must each end
	// applied or dead-lettered (inserts cause none).
	events int
	// applied returns nil once every event of the case is visible in
	// Firestore; nil func: the case can only be dead-lettered.
	applied func(ctx context.Context) error
	// reason, when set, is the reason its dead letters must give.
	reason string
	// untouched returns an error when Firestore shows that a query ran with
	// an id made up from a bad one (nil func: nothing to check).
	untouched func(ctx context.Context) error
}

// Events whose _id is an ObjectID, a string, an integer, a document or
// empty; updates with dotted field names; project documents over 1 MB.
// Each event ends applied or dead-lettered, the daemon keeps running (no
// panic), no query runs with an id made up from a bad one, and the projects
// with good ids end consistent.
func TestBadInputEndsAppliedOrDeadLettered(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	s := w.setup()
	s.startAt = startBefore()
	s.extraConfig = fmt.Sprintf("deadLetter:\n  database: %q\n  collection: %q\n", w.dbName, deadLetterCollection)
	d := startDaemon(t, s)
	d.waitReady(30 * time.Second)

	rename := func(id any, name string) {
		t.Helper()
		if _, err := w.projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: name}}}}); err != nil {
			t.Fatal(err)
		}
	}
	remove := func(id any) {
		t.Helper()
		if _, err := w.projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			t.Fatal(err)
		}
	}
	insert := func(doc bson.D) {
		t.Helper()
		if _, err := w.projects.InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	// asset writes an aiAnalyses document outside w.assets (checked by its case).
	asset := func(docID, projectID, name string) *firestore.DocumentRef {
		t.Helper()
		ref := w.fs.Collection("aiAnalyses").Doc(docID)
		if _, err := ref.Set(ctx, map[string]any{"projectId": projectID, "projectName": name}); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	nameOf := func(ctx context.Context, ref *firestore.DocumentRef) (string, bool, error) {
		snap, err := ref.Get(ctx)
		if status.Code(err) == codes.NotFound {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		n, _ := snap.Data()["projectName"].(string)
		return n, true, nil
	}
	// decoy is an asset whose projectId is what a careless conversion of a
	// bad id would produce: it must keep its name and exist at the end.
	decoy := func(docID, projectID string) func(context.Context) error {
		ref := asset(docID, projectID, "decoy")
		return func(ctx context.Context) error {
			n, exists, err := nameOf(ctx, ref)
			switch {
			case err != nil:
				return err
			case !exists:
				return fmt.Errorf("%s (projectId %q) was deleted: a query ran with a made-up id", relPath(ref), projectID)
			case n != "decoy":
				return fmt.Errorf("%s (projectId %q) was renamed to %q: a query ran with a made-up id", relPath(ref), projectID, n)
			}
			return nil
		}
	}

	var cases []badCase

	// An ObjectID: the normal case, applied (checked by w.consistent too).
	ok := w.addProject(ctx, "objectid", "red", 2, true)
	okRef := w.fs.Collection("aiAnalyses").Doc(ok + "-ai-0")
	w.updateProject(ctx, ok, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "objectid 2"}}}})
	cases = append(cases, badCase{name: "ObjectID id", id: mustOID(t, ok), events: 1,
		applied: func(ctx context.Context) error { return wantName(ctx, nameOf, okRef, "objectid 2") }})

	// A string: a valid project id by the derivation rules (applied), or
	// one not of the configured form (dead-lettered).
	strID := "str-" + bson.NewObjectID().Hex()
	insert(bson.D{{Key: "_id", Value: strID}, {Key: "name", Value: "s1"}})
	strRef := asset(strID+"-ai-0", strID, "s1")
	rename(strID, "s2")
	cases = append(cases, badCase{name: "string id, renamed", id: strID, events: 1,
		applied: func(ctx context.Context) error { return wantName(ctx, nameOf, strRef, "s2") }})
	strGone := "str-" + bson.NewObjectID().Hex()
	insert(bson.D{{Key: "_id", Value: strGone}, {Key: "name", Value: "g"}})
	strGoneRef := asset(strGone+"-ai-0", strGone, "g")
	remove(strGone)
	cases = append(cases, badCase{name: "string id, deleted", id: strGone, events: 1,
		applied: func(ctx context.Context) error {
			if _, exists, err := nameOf(ctx, strGoneRef); err != nil || exists {
				return errors.Join(err, fmt.Errorf("%s still exists", relPath(strGoneRef)))
			}
			return nil
		}})

	// Ids that cannot name a project: renamed, then deleted; both events
	// must be dead-lettered, and no query may run with a made-up id.
	intID := int64(4242000 + time.Now().UnixNano()%1000)
	docID := bson.D{{Key: "k", Value: "doc-" + bson.NewObjectID().Hex()}}
	for _, c := range []struct {
		name   string
		id     any
		decoys []string // projectIds a careless conversion would make
	}{
		{"integer id", intID, []string{fmt.Sprint(intID)}},
		{"document id", docID, []string{fmt.Sprint(docID), "map[k:" + docID[0].Value.(string) + "]"}},
		{"empty string id", "", []string{""}},
	} {
		insert(bson.D{{Key: "_id", Value: c.id}, {Key: "name", Value: "bad"}})
		var checks []func(context.Context) error
		for i, p := range c.decoys {
			checks = append(checks, decoy(fmt.Sprintf("decoy-%s-%d", strings.ReplaceAll(c.name, " ", "-"), i), p))
		}
		rename(c.id, "bad 2")
		remove(c.id)
		cases = append(cases, badCase{name: c.name, id: c.id, events: 2, reason: "invalid-id",
			untouched: func(ctx context.Context) error {
				for _, check := range checks {
					if err := check(ctx); err != nil {
						return err
					}
				}
				return nil
			}})
	}

	// Dotted field names: an update whose updatedFields key is a path
	// ("owner.team"), and a replace whose document has a field literally
	// named "owner.team" beside the nested owner.team (only the nested one
	// is the configured source; w.consistent compares project.team with it).
	dotted := w.addProject(ctx, "dotted", "red", 1, false)
	w.updateProject(ctx, dotted, bson.D{{Key: "$set", Value: bson.D{{Key: "owner.team", Value: "path"}}}})
	w.replaceProject(ctx, dotted, bson.D{{Key: "name", Value: "dotted 2"}, {Key: "owner.team", Value: "literal"},
		{Key: "owner", Value: bson.D{{Key: "team", Value: "nested"}}}})
	dottedRef := w.fs.Collection("storyboards").Doc(dotted + "-sb-0")
	cases = append(cases, badCase{name: "dotted field names", id: mustOID(t, dotted), events: 2,
		applied: func(ctx context.Context) error {
			snap, err := dottedRef.Get(ctx)
			if err != nil {
				return err
			}
			if team, _ := snap.DataAt("project.team"); team != "nested" {
				return fmt.Errorf("project.team = %v, want the nested owner.team %q", team, "nested")
			}
			return wantName(ctx, nameOf, dottedRef, "dotted 2")
		}})
	// A field literally named "a.b" changed by a pipeline-style update
	// (TestLiteralDottedFieldIsNotTheNestedPath checks what it must do).
	if _, err := w.projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: mustOID(t, dotted)}}, bson.A{
		bson.D{{Key: "$replaceWith", Value: bson.D{{Key: "$setField", Value: bson.D{
			{Key: "field", Value: "owner.team"}, {Key: "input", Value: "$$ROOT"}, {Key: "value", Value: "literal 2"}}}}}},
	}); err != nil {
		t.Logf("no update of a field literally named %q: %v", "owner.team", err)
	} else {
		cases[len(cases)-1].events++
	}

	// Project documents over 1 MB: a big field nobody copies (applied, it
	// changes nothing), and a name too big for a Firestore document (applied
	// if Firestore takes it, else dead-lettered).
	bigDesc := strings.Repeat("d", 1100<<10)
	big := w.addProject(ctx, "big", "red", 1, false)
	w.updateProject(ctx, big, bson.D{{Key: "$set", Value: bson.D{{Key: "description", Value: bigDesc}, {Key: "name", Value: "big 2"}}}})
	bigRef := w.fs.Collection("aiAnalyses").Doc(big + "-ai-0")
	cases = append(cases, badCase{name: "1.1 MB project, small name", id: mustOID(t, big), events: 1,
		applied: func(ctx context.Context) error { return wantName(ctx, nameOf, bigRef, "big 2") }})
	hugeOID := bson.NewObjectID()
	insert(bson.D{{Key: "_id", Value: hugeOID}, {Key: "name", Value: "small"}})
	hugeRef := asset(hugeOID.Hex()+"-ai-0", hugeOID.Hex(), "small")
	hugeName := strings.Repeat("n", 1100<<10)
	rename(hugeOID, hugeName)
	cases = append(cases, badCase{name: "1.1 MB name", id: hugeOID, events: 1,
		applied: func(ctx context.Context) error { return wantName(ctx, nameOf, hugeRef, hugeName) }})

	// Every case ends applied or dead-lettered, with the daemon running.
	letters := w.deadLetterColl()
	eventually(t, catchUpTimeout, func(ctx context.Context) error {
		select {
		case <-d.done:
			t.Fatalf("the watcher exited with %d on bad input", d.exitCode)
		default:
		}
		all, err := letters.all(ctx)
		if err != nil {
			return err
		}
		var open []string
		for _, c := range cases {
			if c.applied != nil && c.applied(ctx) == nil {
				continue
			}
			if n := countDeadLettersFor(all, c.id, c.reason); n < c.events && !(c.applied != nil && n > 0) {
				open = append(open, fmt.Sprintf("%s: not applied, %d of %d events dead-lettered", c.name, n, c.events))
			}
		}
		if len(open) > 0 {
			return fmt.Errorf("%s", strings.Join(open, "; "))
		}
		return nil
	})
	all, err := letters.all(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		outcome := "dead-lettered"
		if c.applied != nil && c.applied(ctx) == nil {
			outcome = "applied"
		}
		t.Logf("%s: %s (%d dead letters name it)", c.name, outcome, countDeadLettersFor(all, c.id, c.reason))
		if c.untouched != nil {
			if err := c.untouched(ctx); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		}
	}
	if err := w.consistent(ctx); err != nil {
		t.Errorf("projects with good ids: %v", err)
	}
	d.requireRunning()
	if logs := d.logs.String(); contains(logs, "panic:") || contains(logs, "goroutine ") {
		t.Error("the watcher log shows a panic")
	}
	d.stop()
}

func wantName(ctx context.Context, nameOf func(context.Context, *firestore.DocumentRef) (string, bool, error),
	ref *firestore.DocumentRef, want string) error {
	got, exists, err := nameOf(ctx, ref)
	switch {
	case err != nil:
		return err
	case !exists:
		return fmt.Errorf("%s is gone", relPath(ref))
	case got != want:
		if len(got) > 40 {
			got = got[:40] + "..."
		}
		return fmt.Errorf("%s: projectName %q", relPath(ref), got)
	}
	return nil
}

func mustOID(t *testing.T, hex string) bson.ObjectID {
	t.Helper()
	oid, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	return oid
}
