package watcher

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestDerive(t *testing.T) {
	for _, tc := range deriveCases {
		t.Run(tc.name, func(t *testing.T) { checkDerive(t, tc) })
	}
}

// checkDerive derives tc.ch (with the common position) and compares.
func checkDerive(t *testing.T, tc deriveCase) {
	t.Helper()
	token, ct, wall := deriveToken, deriveCT, deriveWall
	tc.ch.Token, tc.ch.ClusterTime, tc.ch.WallTime = token, ct, wall
	ev, ok, err := Derive(tc.ch, tc.fields)
	w := tc.want
	switch {
	case w.fatal != "":
		var fe *FatalError
		if !errors.As(err, &fe) {
			t.Fatalf("err = %v, want *FatalError", err)
		}
		if fe.Op != w.fatal || fe.Namespace != tc.ch.Namespace || fe.To != tc.ch.To || fe.ClusterTime != ct {
			t.Errorf("FatalError = %+v", fe)
		}
		if !strings.Contains(err.Error(), tc.ch.Namespace.DB) || !strings.Contains(err.Error(), "changes nothing") {
			t.Errorf("message %q does not name the namespace and the consequence", err)
		}
	case w.err != nil:
		if !errors.Is(err, w.err) {
			t.Fatalf("err = %v, want %v", err, w.err)
		}
	case err != nil:
		t.Fatalf("unexpected error: %v", err)
	}
	if err != nil {
		if ok {
			t.Errorf("ok = true with an error")
		}
		if errors.Is(err, event.ErrInvalidValue) && (!reflect.DeepEqual(ev.Lookup, w.lookup) || ev.Set != nil || ev.Unset != nil) {
			t.Errorf("invalid-value event: Set %v Unset %v Lookup %#v, want no values and Lookup %#v (read again by a retry)", ev.Set, ev.Unset, ev.Lookup, w.lookup)
		}
		return
	}
	if ok != w.ok {
		t.Fatalf("ok = %v, want %v (event %+v)", ok, w.ok, ev)
	}
	if !ok {
		return
	}
	if ev.Kind != w.kind || ev.ProjectID != w.id || ev.Op != tc.ch.Op {
		t.Errorf("kind/id/op = %v/%q/%q, want %v/%q/%q", ev.Kind, ev.ProjectID, ev.Op, w.kind, w.id, tc.ch.Op)
	}
	if !reflect.DeepEqual(ev.Set, w.set) {
		t.Errorf("Set = %#v, want %#v", ev.Set, w.set)
	}
	if !reflect.DeepEqual(ev.Unset, w.unset) {
		t.Errorf("Unset = %#v, want %#v", ev.Unset, w.unset)
	}
	if !reflect.DeepEqual(ev.Lookup, w.lookup) {
		t.Errorf("Lookup = %#v, want %#v", ev.Lookup, w.lookup)
	}
	if !reflect.DeepEqual(ev.Token, token) || ev.ClusterTime != ct || !ev.WallTime.Equal(wall) {
		t.Errorf("position not copied: %v %v %v", ev.Token, ev.ClusterTime, ev.WallTime)
	}
	if want := tc.ch.DocumentKey.Lookup("_id"); !ev.DocumentID.Equal(want) {
		t.Errorf("DocumentID = %v, want %v", ev.DocumentID, want)
	}
}

func TestFatalErrorMessages(t *testing.T) {
	ns := event.Namespace{DB: "collab", Coll: "projects"}
	tests := []struct {
		err  *FatalError
		want []string
	}{
		{&FatalError{Op: "drop", Namespace: ns}, []string{"collab.projects", "dropped"}},
		{&FatalError{Op: "rename", Namespace: ns, To: event.Namespace{DB: "collab", Coll: "p2"}}, []string{"collab.projects", "renamed to collab.p2"}},
		{&FatalError{Op: "dropDatabase", Namespace: event.Namespace{DB: "collab"}}, []string{"database collab", "dropped"}},
		{&FatalError{Op: "invalidate", ClusterTime: bson.Timestamp{T: 5, I: 1}}, []string{"invalidated", "Timestamp(5, 1)"}},
	}
	for _, tc := range tests {
		t.Run(tc.err.Op, func(t *testing.T) {
			msg := tc.err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not contain %q", msg, w)
				}
			}
		})
	}
}

// FuzzDerive checks that Derive never panics and that its results keep
// their invariants, whatever the bytes of the change.
func FuzzDerive(f *testing.F) {
	f.Add("update", []byte(watchertest.Raw(f, bson.D{{Key: "_id", Value: watchertest.OID}})),
		[]byte(watchertest.Raw(f, bson.D{{Key: "meta.title", Value: "T"}, {Key: "name", Value: "N"}})),
		"owner", []byte(nil), []byte(nil), "name,meta,owner.email")
	f.Add("delete", []byte(watchertest.Raw(f, bson.D{{Key: "_id", Value: "p-1"}})), []byte(nil), "", []byte(nil), []byte(nil), "name")
	f.Fuzz(func(t *testing.T, op string, key, updated []byte, removed string, disamb, full []byte, fieldList string) {
		var rem []string
		if removed != "" {
			rem = strings.Split(removed, ",")
		}
		var fields []string
		if fieldList != "" {
			fields = strings.Split(fieldList, ",")
		}
		ch := event.Change{Op: op, DocumentKey: key, UpdatedFields: updated, RemovedFields: rem,
			DisambiguatedPaths: disamb, FullDocument: full}
		ev, ok, err := Derive(ch, fields)
		if err != nil {
			if ok {
				t.Fatalf("ok with error %v", err)
			}
			return
		}
		if !ok {
			return
		}
		if ev.ProjectID == "" {
			t.Fatalf("event without a project id: %+v", ev)
		}
		if ev.Kind != event.ProjectDeleted && ev.Kind != event.ProjectUpdated {
			t.Fatalf("bad kind %v", ev.Kind)
		}
		configured := map[string]bool{}
		for _, f := range fields {
			configured[f] = true
		}
		seen := map[string]bool{}
		for f := range ev.Set {
			seen[f] = true
		}
		for _, list := range [][]string{ev.Unset, ev.Lookup} {
			for _, f := range list {
				if seen[f] {
					t.Fatalf("field %q in two lists: %+v", f, ev)
				}
				seen[f] = true
			}
		}
		for f := range seen {
			if !configured[f] {
				t.Fatalf("event names %q, not a configured field %q", f, fields)
			}
		}
		if ev.Kind == event.ProjectUpdated && len(seen) == 0 {
			t.Fatalf("update event that changes nothing: %+v", ev)
		}
	})
}

func BenchmarkDerive(b *testing.B) {
	oidKey := watchertest.Raw(b, bson.D{{Key: "_id", Value: watchertest.OID}})
	fields := []string{"name", "meta.title", "owner.email", "status"}
	cases := []struct {
		name string
		ch   event.Change
	}{
		{"delete", event.Change{Op: "delete", DocumentKey: oidKey}},
		{"update-copied", event.Change{Op: "update", DocumentKey: oidKey,
			UpdatedFields: watchertest.Raw(b, bson.D{{Key: "name", Value: "Apollo"}, {Key: "updatedAt", Value: int64(1)}})}},
		{"update-irrelevant", event.Change{Op: "update", DocumentKey: oidKey,
			UpdatedFields: watchertest.Raw(b, bson.D{{Key: "budget", Value: 5}, {Key: "updatedAt", Value: int64(1)}})}},
		{"replace", event.Change{Op: "replace", DocumentKey: oidKey,
			FullDocument: watchertest.Raw(b, bson.D{{Key: "_id", Value: watchertest.OID}, {Key: "name", Value: "N"},
				{Key: "meta", Value: bson.D{{Key: "title", Value: "T"}}}, {Key: "budget", Value: 5}})}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Derive(c.ch, fields); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
