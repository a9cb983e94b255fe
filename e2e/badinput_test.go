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

	cases := goodIDCases(ctx, w)
	cases = append(cases, invalidIDCases(ctx, w)...)
	cases = append(cases, dottedFieldsCase(ctx, w))
	cases = append(cases, bigDocumentCases(ctx, w)...)

	waitAppliedOrDeadLettered(t, d, w, cases)
	checkBadInputEnd(ctx, t, d, w, cases)
	d.stop()
}

// goodIDCases changes projects whose ids are valid: an ObjectID (the normal
// case, checked by w.consistent too), and strings, valid project ids by the
// derivation rules (applied), or not of the configured form
// (dead-lettered).
func goodIDCases(ctx context.Context, w *world) []badCase {
	w.t.Helper()
	ok := w.addProject(ctx, "objectid", "red", 2, true)
	okRef := w.fs.Collection("aiAnalyses").Doc(ok + "-ai-0")
	w.updateProject(ctx, ok, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "objectid 2"}}}})
	cases := []badCase{{name: "ObjectID id", id: mustOID(w.t, ok), events: 1,
		applied: func(ctx context.Context) error { return wantName(ctx, okRef, "objectid 2") }}}

	strID := "str-" + bson.NewObjectID().Hex()
	w.insertDoc(ctx, bson.D{{Key: "_id", Value: strID}, {Key: "name", Value: "s1"}})
	strRef := w.looseAsset(ctx, strID+"-ai-0", strID, "s1")
	w.renameByID(ctx, strID, "s2")
	cases = append(cases, badCase{name: "string id, renamed", id: strID, events: 1,
		applied: func(ctx context.Context) error { return wantName(ctx, strRef, "s2") }})
	strGone := "str-" + bson.NewObjectID().Hex()
	w.insertDoc(ctx, bson.D{{Key: "_id", Value: strGone}, {Key: "name", Value: "g"}})
	strGoneRef := w.looseAsset(ctx, strGone+"-ai-0", strGone, "g")
	w.deleteByID(ctx, strGone)
	return append(cases, badCase{name: "string id, deleted", id: strGone, events: 1,
		applied: func(ctx context.Context) error {
			if _, exists, err := assetName(ctx, strGoneRef); err != nil || exists {
				return errors.Join(err, fmt.Errorf("%s still exists", relPath(strGoneRef)))
			}
			return nil
		}})
}

// invalidIDCases renames, then deletes, projects whose ids cannot name a
// project: both events must be dead-lettered, and no query may run with a
// made-up id.
func invalidIDCases(ctx context.Context, w *world) []badCase {
	w.t.Helper()
	intID := int64(4242000 + time.Now().UnixNano()%1000)
	docID := bson.D{{Key: "k", Value: "doc-" + bson.NewObjectID().Hex()}}
	var cases []badCase
	for _, c := range []struct {
		name   string
		id     any
		decoys []string // projectIds a careless conversion would make
	}{
		{"integer id", intID, []string{fmt.Sprint(intID)}},
		{"document id", docID, []string{fmt.Sprint(docID), "map[k:" + docID[0].Value.(string) + "]"}},
		{"empty string id", "", []string{""}},
	} {
		w.insertDoc(ctx, bson.D{{Key: "_id", Value: c.id}, {Key: "name", Value: "bad"}})
		var checks []func(context.Context) error
		for i, p := range c.decoys {
			checks = append(checks, w.decoy(ctx, fmt.Sprintf("decoy-%s-%d", strings.ReplaceAll(c.name, " ", "-"), i), p))
		}
		w.renameByID(ctx, c.id, "bad 2")
		w.deleteByID(ctx, c.id)
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
	return cases
}

// dottedFieldsCase changes a project by an update whose updatedFields key
// is a path ("owner.team"), and a replace whose document has a field
// literally named "owner.team" beside the nested owner.team (only the
// nested one is the configured source; w.consistent compares project.team
// with it).
func dottedFieldsCase(ctx context.Context, w *world) badCase {
	t := w.t
	t.Helper()
	dotted := w.addProject(ctx, "dotted", "red", 1, false)
	w.updateProject(ctx, dotted, bson.D{{Key: "$set", Value: bson.D{{Key: "owner.team", Value: "path"}}}})
	w.replaceProject(ctx, dotted, bson.D{{Key: "name", Value: "dotted 2"}, {Key: "owner.team", Value: "literal"},
		{Key: "owner", Value: bson.D{{Key: "team", Value: "nested"}}}})
	dottedRef := w.fs.Collection("storyboards").Doc(dotted + "-sb-0")
	c := badCase{name: "dotted field names", id: mustOID(t, dotted), events: 2,
		applied: func(ctx context.Context) error {
			snap, err := dottedRef.Get(ctx)
			if err != nil {
				return err
			}
			if team, _ := snap.DataAt("project.team"); team != "nested" {
				return fmt.Errorf("project.team = %v, want the nested owner.team %q", team, "nested")
			}
			return wantName(ctx, dottedRef, "dotted 2")
		}}
	// A field literally named "a.b" changed by a pipeline-style update
	// (TestLiteralDottedFieldIsNotTheNestedPath checks what it must do).
	if _, err := w.projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: mustOID(t, dotted)}}, bson.A{
		bson.D{{Key: "$replaceWith", Value: bson.D{{Key: "$setField", Value: bson.D{
			{Key: "field", Value: "owner.team"}, {Key: "input", Value: "$$ROOT"}, {Key: "value", Value: "literal 2"}}}}}},
	}); err != nil {
		t.Logf("no update of a field literally named %q: %v", "owner.team", err)
	} else {
		c.events++
	}
	return c
}

// bigDocumentCases changes project documents over 1 MB: a big field nobody
// copies (applied, it changes nothing), and a name too big for a Firestore
// document (applied if Firestore takes it, else dead-lettered).
func bigDocumentCases(ctx context.Context, w *world) []badCase {
	w.t.Helper()
	bigDesc := strings.Repeat("d", 1100<<10)
	big := w.addProject(ctx, "big", "red", 1, false)
	w.updateProject(ctx, big, bson.D{{Key: "$set", Value: bson.D{{Key: "description", Value: bigDesc}, {Key: "name", Value: "big 2"}}}})
	bigRef := w.fs.Collection("aiAnalyses").Doc(big + "-ai-0")
	hugeOID := bson.NewObjectID()
	w.insertDoc(ctx, bson.D{{Key: "_id", Value: hugeOID}, {Key: "name", Value: "small"}})
	hugeRef := w.looseAsset(ctx, hugeOID.Hex()+"-ai-0", hugeOID.Hex(), "small")
	hugeName := strings.Repeat("n", 1100<<10)
	w.renameByID(ctx, hugeOID, hugeName)
	return []badCase{
		{name: "1.1 MB project, small name", id: mustOID(w.t, big), events: 1,
			applied: func(ctx context.Context) error { return wantName(ctx, bigRef, "big 2") }},
		{name: "1.1 MB name", id: hugeOID, events: 1,
			applied: func(ctx context.Context) error { return wantName(ctx, hugeRef, hugeName) }},
	}
}

// waitAppliedOrDeadLettered waits until every case ends applied or
// dead-lettered, failing at once if the daemon exits meanwhile.
func waitAppliedOrDeadLettered(t *testing.T, d *daemon, w *world, cases []badCase) {
	t.Helper()
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
}

// checkBadInputEnd logs each case's outcome and checks the end state: no
// query ran with a made-up id, the projects with good ids are consistent,
// and the daemon still runs and never panicked.
func checkBadInputEnd(ctx context.Context, t *testing.T, d *daemon, w *world, cases []badCase) {
	t.Helper()
	all, err := w.deadLetterColl().all(ctx)
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
}

// insertDoc inserts doc into projects as it is (any _id).
func (w *world) insertDoc(ctx context.Context, doc bson.D) {
	w.t.Helper()
	if _, err := w.projects.InsertOne(ctx, doc); err != nil {
		w.t.Fatal(err)
	}
}

// renameByID sets the name of the project whose _id is id (any type).
func (w *world) renameByID(ctx context.Context, id any, name string) {
	w.t.Helper()
	if _, err := w.projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: name}}}}); err != nil {
		w.t.Fatal(err)
	}
}

// deleteByID deletes the project whose _id is id (any type).
func (w *world) deleteByID(ctx context.Context, id any) {
	w.t.Helper()
	if _, err := w.projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		w.t.Fatal(err)
	}
}

// looseAsset writes an aiAnalyses document outside w.assets (checked by
// its case).
func (w *world) looseAsset(ctx context.Context, docID, projectID, name string) *firestore.DocumentRef {
	w.t.Helper()
	ref := w.fs.Collection("aiAnalyses").Doc(docID)
	if _, err := ref.Set(ctx, map[string]any{"projectId": projectID, "projectName": name}); err != nil {
		w.t.Fatal(err)
	}
	return ref
}

// decoy writes an asset whose projectId is what a careless conversion of a
// bad id would produce, and returns the check that it kept its name and
// exists.
func (w *world) decoy(ctx context.Context, docID, projectID string) func(context.Context) error {
	w.t.Helper()
	ref := w.looseAsset(ctx, docID, projectID, "decoy")
	return func(ctx context.Context) error {
		n, exists, err := assetName(ctx, ref)
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

// assetName reads the projectName of the document at ref, and whether it
// exists.
func assetName(ctx context.Context, ref *firestore.DocumentRef) (string, bool, error) {
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

func wantName(ctx context.Context, ref *firestore.DocumentRef, want string) error {
	got, exists, err := assetName(ctx, ref)
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
