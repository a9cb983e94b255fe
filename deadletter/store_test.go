package deadletter

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func testStore(t *testing.T) *Store {
	t.Helper()
	uri, _ := mongotest.ForTest(t)
	client, err := mongo.Connect(mongotest.ClientOptions(uri).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return New(client.Database(mongotest.DBName(t)).Collection("deadLetters"))
}

func token(s string) bson.Raw {
	b, _ := bson.Marshal(bson.D{{Key: "_data", Value: s}})
	return b
}

func letter(tok, project string, ct uint32) event.DeadLetter {
	key, _ := bson.Marshal(bson.D{{Key: "_id", Value: project}})
	at := time.Date(2026, 3, 1, 10, 0, int(ct), 0, time.UTC)
	return event.DeadLetter{
		Kind: "ProjectUpdated", ProjectID: project, Op: "update", DocumentKey: key,
		Set:   map[string]any{"name": "New name", "meta.title": "dotted", "tags": []any{"a", int64(2)}, "nested": map[string]any{"k": true}},
		Unset: []string{"old"}, Token: token(tok), ClusterTime: bson.Timestamp{T: ct, I: 1},
		Reason: event.ReasonApplyFailed, Error: "permission denied", Attempts: 1, FirstFailedAt: at, LastFailedAt: at,
	}
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := testStore(t)
	in := letter("T2", "p2", 20)
	if err := s.Add(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, letter("T1", "p1", 10)); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ProjectID != "p1" || got[1].ProjectID != "p2" {
		t.Fatalf("List = %+v, want p1 then p2 (cluster time order)", got)
	}
	out := got[1]
	if out.ID != ID(in.Token) {
		t.Errorf("ID %q, want %q (from the token)", out.ID, ID(in.Token))
	}
	in.ID = out.ID
	if !reflect.DeepEqual(out, in) {
		for _, f := range []struct {
			name      string
			got, want any
		}{{"set", out.Set, in.Set}, {"first", out.FirstFailedAt, in.FirstFailedAt}, {"wall", out.WallTime, in.WallTime}} {
			if !reflect.DeepEqual(f.got, f.want) {
				t.Errorf("round trip of %s: got %#v want %#v", f.name, f.got, f.want)
			}
		}
		t.Errorf("round trip:\n got %#v\nwant %#v", out, in)
	}
	if n, err := s.Count(ctx); err != nil || n != 2 {
		t.Fatalf("Count = %d %v", n, err)
	}
}

// Parking the same event twice (a replay) keeps one letter and its first
// failure time.
func TestStoreAddIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := testStore(t)
	first := letter("T1", "p1", 10)
	again := first
	again.FirstFailedAt = first.FirstFailedAt.Add(time.Hour)
	again.LastFailedAt = again.FirstFailedAt
	again.Error = "second time"
	for _, l := range []event.DeadLetter{first, again} {
		if err := s.Add(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d letters, want 1", len(got))
	}
	if !got[0].FirstFailedAt.Equal(first.FirstFailedAt) || !got[0].LastFailedAt.Equal(again.LastFailedAt) || got[0].Error != "second time" {
		t.Fatalf("letter %+v: want the first failure time kept and the last error updated", got[0])
	}
}

func TestStoreGetRemoveRecordFailure(t *testing.T) {
	ctx := context.Background()
	s := testStore(t)
	l := letter("T1", "p1", 10)
	if err := s.Add(ctx, l); err != nil {
		t.Fatal(err)
	}
	id := ID(l.Token)
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	if err := s.RecordFailure(ctx, id, errors.New("still failing"), at); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempts != 2 || got.Error != "still failing" || !got.LastFailedAt.Equal(at) {
		t.Fatalf("after RecordFailure: %+v", got)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get unknown = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Remove unknown = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := s.Add(ctx, letter(fmt.Sprint("X", i), "p", uint32(i))); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.RemoveAll(ctx); err != nil || n != 3 {
		t.Fatalf("RemoveAll = %d %v, want 3", n, err)
	}
	if n, _ := s.Count(ctx); n != 0 {
		t.Fatalf("Count after RemoveAll = %d", n)
	}
}

// fakeReader answers a retry's reads: the project's current values, and
// Check's verdict.
type fakeReader struct {
	current    map[string]any // nil: the project is gone
	checkErr   error
	resolveErr error // e.g. a current value Firestore cannot hold
}

func (f fakeReader) Resolve(_ context.Context, ev *event.Event) error {
	if f.resolveErr != nil {
		return f.resolveErr
	}
	for _, p := range ev.Lookup {
		if v, ok := f.current[p]; ok {
			if ev.Set == nil {
				ev.Set = map[string]any{}
			}
			ev.Set[p] = v
		} else if f.current != nil {
			ev.Unset = append(ev.Unset, p)
		}
	}
	if f.current == nil {
		ev.Unresolved = ev.Lookup
	}
	ev.Lookup = nil
	return nil
}

func (f fakeReader) Check(context.Context, *event.Event) error { return f.checkErr }

// fakeApplier records calls and returns err.
type fakeApplier struct {
	calls []string
	err   error
}

func (a *fakeApplier) DeleteProject(_ context.Context, id string) (event.Report, error) {
	a.calls = append(a.calls, "delete:"+id)
	return event.Report{}, a.err
}

func (a *fakeApplier) UpdateProject(_ context.Context, id string, set map[string]any, unset []string) (event.Report, error) {
	a.calls = append(a.calls, fmt.Sprintf("update:%s:%v:%v", id, set["name"], unset))
	return event.Report{}, a.err
}

func TestRetrier(t *testing.T) {
	ctx := context.Background()
	limit := fmt.Errorf("x: %w", event.ErrSafetyLimit)
	tests := []struct {
		name        string
		letter      event.DeadLetter
		force       bool
		reader      fakeReader
		applierErr  error
		wantErr     error
		wantKept    bool
		wantLimited []string
		wantForced  []string
	}{
		{name: "update applied with the current values and removed", letter: letter("T1", "p1", 1),
			reader:      fakeReader{current: map[string]any{"name": "Newest name", "tags": "t"}},
			wantLimited: []string{"update:p1:Newest name:[meta.title nested old]"}},
		{name: "update of a gone project has nothing to copy", letter: letter("T6", "p6", 6), reader: fakeReader{}},
		{name: "a twin project stays in the dead letters", letter: func() event.DeadLetter {
			l := letter("T7", "p7", 7)
			l.Kind, l.Set, l.Unset = "ProjectDeleted", nil, nil
			return l
		}(), reader: fakeReader{checkErr: fmt.Errorf("x: %w", event.ErrProjectExists)}, wantErr: event.ErrProjectExists, wantKept: true},
		{name: "delete applied", letter: func() event.DeadLetter {
			l := letter("T2", "p2", 2)
			l.Kind, l.Set, l.Unset = "ProjectDeleted", nil, nil
			return l
		}(), wantLimited: []string{"delete:p2"}},
		{name: "still over the limit stays", letter: letter("T3", "p3", 3), applierErr: limit, wantErr: event.ErrSafetyLimit,
			reader: fakeReader{current: map[string]any{"name": "New name"}}, wantKept: true,
			wantLimited: []string{"update:p3:New name:[meta.title nested old tags]"}},
		{name: "--force skips the limit", letter: letter("T4", "p4", 4), force: true, applierErr: limit,
			reader: fakeReader{current: map[string]any{"name": "New name"}}, wantForced: []string{"update:p4:New name:[meta.title nested old tags]"}},
		{name: "invalid value still invalid stays", letter: invalidValueLetter("T8", "p8", 8),
			reader: fakeReader{resolveErr: fmt.Errorf("x: %w", event.ErrInvalidValue)}, wantErr: event.ErrInvalidValue, wantKept: true},
		{name: "invalid value fixed since is copied and removed", letter: invalidValueLetter("T9", "p9", 9),
			reader: fakeReader{current: map[string]any{"name": "Fixed"}}, wantLimited: []string{"update:p9:Fixed:[]"}},
		{name: "invalid id is not retryable", letter: func() event.DeadLetter {
			l := letter("T5", "", 5)
			l.Reason = event.ReasonInvalidID
			return l
		}(), wantErr: ErrNotRetryable, wantKept: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testStore(t)
			if err := s.Add(ctx, tt.letter); err != nil {
				t.Fatal(err)
			}
			limited := &fakeApplier{err: tt.applierErr}
			forced := &fakeApplier{}
			r := NewRetrier(s, limited, forced, tt.reader)
			id := ID(tt.letter.Token)
			_, err := r.Retry(ctx, id, tt.force)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Retry = %v, want %v", err, tt.wantErr)
			}
			if fmt.Sprint(limited.calls) != fmt.Sprint(tt.wantLimited) || fmt.Sprint(forced.calls) != fmt.Sprint(tt.wantForced) {
				t.Fatalf("calls: limited %v forced %v; want %v and %v", limited.calls, forced.calls, tt.wantLimited, tt.wantForced)
			}
			got, gerr := s.Get(ctx, id)
			if kept := gerr == nil; kept != tt.wantKept {
				t.Fatalf("letter kept = %v (%v), want %v", kept, gerr, tt.wantKept)
			}
			if tt.wantKept && (tt.applierErr != nil || tt.reader.resolveErr != nil) && got.Attempts != tt.letter.Attempts+1 {
				t.Fatalf("a failed retry must count an attempt: %+v", got)
			}
		})
	}
}

// Apply implements the Applier port by kind.
func (a *fakeApplier) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	if ev.Kind == event.ProjectDeleted {
		return a.DeleteProject(ctx, ev.ProjectID)
	}
	return a.UpdateProject(ctx, ev.ProjectID, ev.Set, ev.Unset)
}

// invalidValueLetter is the dead letter of an update whose copied name
// held a value Firestore cannot hold: no values, the field to read again.
func invalidValueLetter(tok, project string, ct uint32) event.DeadLetter {
	l := letter(tok, project, ct)
	l.Reason, l.Set, l.Unset, l.Lookup = event.ReasonInvalidValue, nil, nil, []string{"name"}
	return l
}
