package mongotest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// changeEvent as the driver sees it.
type gotEvent struct {
	ID                bson.Raw       `bson:"_id"`
	OperationType     string         `bson:"operationType"`
	ClusterTime       bson.Timestamp `bson:"clusterTime"`
	WallTime          bson.DateTime  `bson:"wallTime"`
	NS                bson.D         `bson:"ns"`
	To                bson.D         `bson:"to"`
	DocumentKey       bson.D         `bson:"documentKey"`
	FullDocument      bson.D         `bson:"fullDocument"`
	HasFullDocument   bool           `bson:"-"`
	UpdateDescription bson.D         `bson:"updateDescription"`
}

// nextEvent reads the next event of cs (failing after a timeout).
func nextEvent(t *testing.T, cs *mongo.ChangeStream) gotEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !cs.Next(ctx) {
		t.Fatalf("no next change event: %v", cs.Err())
	}
	var ev gotEvent
	if err := cs.Decode(&ev); err != nil {
		t.Fatalf("decode event: %v", err)
	}
	_, err := cs.Current.LookupErr("fullDocument")
	ev.HasFullDocument = err == nil
	return ev
}

func docString(v any) string {
	if v == nil {
		return "<nil>"
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// sortedDoc renders a document with its fields (recursively) sorted: the
// field order of updatedFields is not specified.
func sortedDoc(d bson.D) string {
	if d == nil {
		return "<nil>"
	}
	return docString(sortFields(d))
}

func sortFields(v any) any {
	switch x := v.(type) {
	case bson.D:
		out := make(bson.D, len(x))
		for i, e := range x {
			out[i] = bson.E{Key: e.Key, Value: sortFields(e.Value)}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = sortFields(e)
		}
		return out
	}
	return v
}

func TestWatchDeliversEventsInOrderWithTheirShapes(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	coll := client.Database("app").Collection("projects")
	ns := bson.D{{Key: "db", Value: "app"}, {Key: "coll", Value: "projects"}}
	key := bson.D{{Key: "_id", Value: "p1"}}

	steps := []struct {
		name         string
		fullDocument options.FullDocument
		do           func() error
		wantOp       string
		wantFull     any // bson.D, nil (null) or "absent"
		wantUpdate   bson.D
	}{
		{
			name: "insert", wantOp: "insert",
			do: func() error {
				_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "p1"}, {Key: "name", Value: "a"}, {Key: "tags", Value: bson.A{"x"}}})
				return err
			},
			wantFull: bson.D{{Key: "_id", Value: "p1"}, {Key: "name", Value: "a"}, {Key: "tags", Value: bson.A{"x"}}},
		},
		{
			name: "update", wantOp: "update",
			do: func() error {
				_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "p1"}}, bson.D{
					{Key: "$set", Value: bson.D{{Key: "name", Value: "b"}, {Key: "meta.owner", Value: "ann"}}},
					{Key: "$unset", Value: bson.D{{Key: "tags", Value: ""}}},
				})
				return err
			},
			wantFull: "absent",
			wantUpdate: bson.D{
				{Key: "updatedFields", Value: bson.D{{Key: "name", Value: "b"}, {Key: "meta", Value: bson.D{{Key: "owner", Value: "ann"}}}}},
				{Key: "removedFields", Value: bson.A{"tags"}},
				{Key: "truncatedArrays", Value: bson.A{}},
			},
		},
		{
			name: "update with updateLookup", wantOp: "update", fullDocument: options.UpdateLookup,
			do: func() error {
				_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "p1"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "c"}}}})
				return err
			},
			wantFull: bson.D{{Key: "_id", Value: "p1"}, {Key: "name", Value: "c"}, {Key: "meta", Value: bson.D{{Key: "owner", Value: "ann"}}}},
			wantUpdate: bson.D{
				{Key: "updatedFields", Value: bson.D{{Key: "name", Value: "c"}}},
				{Key: "removedFields", Value: bson.A{}},
				{Key: "truncatedArrays", Value: bson.A{}},
			},
		},
		{
			name: "replace", wantOp: "replace",
			do: func() error {
				_, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "p1"}}, bson.D{{Key: "name", Value: "d"}})
				return err
			},
			wantFull: bson.D{{Key: "_id", Value: "p1"}, {Key: "name", Value: "d"}},
		},
		{
			name: "delete", wantOp: "delete",
			do: func() error {
				_, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "p1"}})
				return err
			},
			wantFull: "absent",
		},
	}
	var last bson.Timestamp
	var lastToken string
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			opts := options.ChangeStream()
			if st.fullDocument != "" {
				opts.SetFullDocument(st.fullDocument)
			}
			cs, err := coll.Watch(ctx, mongo.Pipeline{}, opts)
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			defer func() { _ = cs.Close(ctx) }()
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			ev := nextEvent(t, cs)
			if ev.OperationType != st.wantOp {
				t.Errorf("operationType = %q, want %q", ev.OperationType, st.wantOp)
			}
			if docString(ev.NS) != docString(ns) {
				t.Errorf("ns = %s, want %s", docString(ev.NS), docString(ns))
			}
			if docString(ev.DocumentKey) != docString(key) {
				t.Errorf("documentKey = %s, want %s", docString(ev.DocumentKey), docString(key))
			}
			switch want := st.wantFull.(type) {
			case string:
				if ev.HasFullDocument {
					t.Errorf("fullDocument present (%s), want absent", docString(ev.FullDocument))
				}
			case bson.D:
				if docString(ev.FullDocument) != docString(want) {
					t.Errorf("fullDocument = %s, want %s", docString(ev.FullDocument), docString(want))
				}
			}
			if sortedDoc(ev.UpdateDescription) != sortedDoc(st.wantUpdate) {
				t.Errorf("updateDescription = %s, want %s", docString(ev.UpdateDescription), docString(st.wantUpdate))
			}
			if !tsLess(last, ev.ClusterTime) {
				t.Errorf("clusterTime %v not after the previous event's %v", ev.ClusterTime, last)
			}
			tok := ev.ID.Lookup("_data").StringValue()
			if tok <= lastToken {
				t.Errorf("resume token %q not after the previous %q", tok, lastToken)
			}
			if ev.WallTime == 0 {
				t.Errorf("wallTime missing")
			}
			last, lastToken = ev.ClusterTime, tok
		})
	}
}

func TestUpdateLookupOfDeletedDocumentIsNull(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	coll := client.Database("app").Collection("projects")
	cs, err := coll.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetFullDocument(options.UpdateLookup))
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer func() { _ = cs.Close(ctx) }()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	wants := []struct {
		op       string
		nullFull bool
	}{{"insert", false}, {"update", true}, {"delete", false}}
	for _, w := range wants {
		ev := nextEvent(t, cs)
		if ev.OperationType != w.op {
			t.Fatalf("operationType = %q, want %q", ev.OperationType, w.op)
		}
		if w.nullFull && (!ev.HasFullDocument || ev.FullDocument != nil) {
			t.Errorf("%s: fullDocument = %s (present %v), want null", w.op, docString(ev.FullDocument), ev.HasFullDocument)
		}
	}
}

func TestDropAndRenameInvalidate(t *testing.T) {
	tests := []struct {
		name   string
		do     func(ctx context.Context, db *mongo.Database) error
		wantOp []string
	}{
		{
			name:   "drop",
			do:     func(ctx context.Context, db *mongo.Database) error { return db.Collection("c").Drop(ctx) },
			wantOp: []string{"insert", "drop", "invalidate"},
		},
		{
			name: "rename",
			do: func(ctx context.Context, db *mongo.Database) error {
				return db.Client().Database("admin").RunCommand(ctx, bson.D{
					{Key: "renameCollection", Value: db.Name() + ".c"}, {Key: "to", Value: db.Name() + ".d"},
				}).Err()
			},
			wantOp: []string{"insert", "rename", "invalidate"},
		},
		{
			name:   "dropDatabase",
			do:     func(ctx context.Context, db *mongo.Database) error { return db.Drop(ctx) },
			wantOp: []string{"insert", "drop", "invalidate"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			client := connect(t, srv)
			ctx := testCtx(t)
			db := client.Database("app")
			cs, err := db.Collection("c").Watch(ctx, mongo.Pipeline{})
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			defer func() { _ = cs.Close(ctx) }()
			if _, err := db.Collection("c").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
				t.Fatal(err)
			}
			if err := tc.do(ctx, db); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var ops []string
			for cs.Next(ctx) {
				ops = append(ops, cs.Current.Lookup("operationType").StringValue())
				if tc.name == "rename" && ops[len(ops)-1] == "rename" {
					to := cs.Current.Lookup("to", "coll").StringValue()
					if to != "d" {
						t.Errorf("rename.to.coll = %q, want d", to)
					}
				}
			}
			if cs.Err() != nil {
				t.Fatalf("stream error: %v", cs.Err())
			}
			if fmt.Sprint(ops) != fmt.Sprint(tc.wantOp) {
				t.Errorf("events = %v, want %v", ops, tc.wantOp)
			}
			if cs.ID() != 0 {
				t.Errorf("cursor id = %d after invalidate, want 0 (closed)", cs.ID())
			}
		})
	}
}

func TestDatabaseStreamSeesDropDatabase(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	db := client.Database("app")
	cs, err := db.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer func() { _ = cs.Close(ctx) }()
	for _, c := range []string{"a", "b"} {
		if _, err := db.Collection(c).InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for cs.Next(ctx) {
		coll, _ := cs.Current.Lookup("ns", "coll").StringValueOK()
		got = append(got, cs.Current.Lookup("operationType").StringValue()+":"+coll)
	}
	want := []string{"insert:a", "insert:b", "drop:a", "drop:b", "dropDatabase:", "invalidate:"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

func TestResumeTokenAdvancesOnQuietStream(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	cs, err := client.Database("app").Collection("c").Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetMaxAwaitTime(50*time.Millisecond))
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer func() { _ = cs.Close(ctx) }()
	first := cs.ResumeToken()
	if first == nil {
		t.Fatal("no resume token after the initial aggregate")
	}
	// The first TryNext only consumes the (empty) first batch.
	if cs.TryNext(ctx) {
		t.Fatalf("TryNext found an event on a quiet stream: %s", cs.Current)
	}
	prev := first.Lookup("_data").StringValue()
	for i := range 3 {
		if cs.TryNext(ctx) {
			t.Fatalf("TryNext found an event on a quiet stream: %s", cs.Current)
		}
		if cs.Err() != nil {
			t.Fatal(cs.Err())
		}
		tok := cs.ResumeToken().Lookup("_data").StringValue()
		if tok <= prev {
			t.Fatalf("getMore %d: token %q did not advance past %q", i, tok, prev)
		}
		prev = tok
	}
	// An event after the quiet period is still delivered to a stream
	// resumed from the last idle token.
	if _, err := client.Database("app").Collection("c").InsertOne(ctx, bson.D{{Key: "n", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	cs2, err := client.Database("app").Collection("c").Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetResumeAfter(cs.ResumeToken()))
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	defer func() { _ = cs2.Close(ctx) }()
	if ev := nextEvent(t, cs2); ev.OperationType != "insert" {
		t.Errorf("resumed stream: %q, want insert", ev.OperationType)
	}
}

func TestResumeOptions(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	coll := client.Database("app").Collection("c")
	cs, err := coll.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cs.Close(ctx) }()
	for i := range 3 {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	var evs []gotEvent
	for range 3 {
		evs = append(evs, nextEvent(t, cs))
	}
	tests := []struct {
		name    string
		opts    *options.ChangeStreamOptionsBuilder
		wantIDs []int32
	}{
		{"resumeAfter first", options.ChangeStream().SetResumeAfter(evs[0].ID), []int32{1, 2}},
		{"startAfter second", options.ChangeStream().SetStartAfter(evs[1].ID), []int32{2}},
		{"startAtOperationTime second", options.ChangeStream().SetStartAtOperationTime(&evs[1].ClusterTime), []int32{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := coll.Watch(ctx, mongo.Pipeline{}, tc.opts.SetMaxAwaitTime(50*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = s.Close(ctx) }()
			var ids []int32
			for s.TryNext(ctx) {
				ids = append(ids, s.Current.Lookup("documentKey", "_id").Int32())
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tc.wantIDs)
			}
		})
	}
}

func TestResumeErrors(t *testing.T) {
	tests := []struct {
		name     string
		history  int
		prepare  func(srv *Server)
		token    func(first bson.Raw) bson.Raw
		wantCode int32
	}{
		{"trimmed history", 100, func(srv *Server) { srv.TrimHistory() }, func(r bson.Raw) bson.Raw { return r }, 286},
		{"overflowed history window", 2, func(*Server) {}, func(r bson.Raw) bson.Raw { return r }, 286},
		{"malformed token", 100, func(*Server) {}, func(bson.Raw) bson.Raw {
			b, _ := bson.Marshal(bson.D{{Key: "_data", Value: "nothex"}})
			return b
		}, 260},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, WithHistory(tc.history))
			client := connect(t, srv)
			ctx := testCtx(t)
			coll := client.Database("app").Collection("c")
			cs, err := coll.Watch(ctx, mongo.Pipeline{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cs.Close(ctx) }()
			var first bson.Raw
			for i := range 4 {
				if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = nextEvent(t, cs).ID
				}
			}
			tc.prepare(srv)
			s, err := coll.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetResumeAfter(tc.token(first)))
			if err == nil {
				// the error may surface on the first getMore
				s.Next(ctx)
				err = s.Err()
				_ = s.Close(ctx)
			}
			var se mongo.ServerError
			if !errors.As(err, &se) || !se.HasErrorCode(int(tc.wantCode)) {
				t.Fatalf("err = %v, want code %d", err, tc.wantCode)
			}
			if se.HasErrorLabel("ResumableChangeStreamError") {
				t.Errorf("error is labelled resumable")
			}
		})
	}
}

func TestStreamPipelineAndScopes(t *testing.T) {
	tests := []struct {
		name     string
		watch    func(ctx context.Context, c *mongo.Client) (*mongo.ChangeStream, error)
		wantSeen []string // operationType:coll:fields
	}{
		{
			name: "collection stream with $match and $project",
			watch: func(ctx context.Context, c *mongo.Client) (*mongo.ChangeStream, error) {
				return c.Database("app").Collection("a").Watch(ctx, mongo.Pipeline{
					{{Key: "$match", Value: bson.D{{Key: "operationType", Value: bson.D{{Key: "$in", Value: bson.A{"update", "delete"}}}}}}},
					{{Key: "$project", Value: bson.D{{Key: "operationType", Value: 1}, {Key: "ns", Value: 1}}}},
				})
			},
			wantSeen: []string{"update:a:3", "delete:a:3"},
		},
		{
			name: "database stream",
			watch: func(ctx context.Context, c *mongo.Client) (*mongo.ChangeStream, error) {
				return c.Database("app").Watch(ctx, mongo.Pipeline{})
			},
			wantSeen: []string{"insert:a:7", "insert:b:7", "update:a:7", "delete:a:6"},
		},
		{
			name: "cluster stream",
			watch: func(ctx context.Context, c *mongo.Client) (*mongo.ChangeStream, error) {
				return c.Watch(ctx, mongo.Pipeline{})
			},
			wantSeen: []string{"insert:a:7", "insert:b:7", "insert:a:7", "update:a:7", "delete:a:6"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			client := connect(t, srv)
			ctx := testCtx(t)
			cs, err := tc.watch(ctx, client)
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			defer func() { _ = cs.Close(ctx) }()
			a, b := client.Database("app").Collection("a"), client.Database("app").Collection("b")
			steps := []func() error{
				func() error { _, err := a.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); return err },
				func() error { _, err := b.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); return err },
				func() error {
					_, err := client.Database("other").Collection("a").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
					return err
				},
				func() error {
					_, err := a.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}})
					return err
				},
				func() error { _, err := a.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}}); return err },
			}
			for i, step := range steps {
				if err := step(); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			var seen []string
			for range tc.wantSeen {
				nextEvent(t, cs)
				coll, _ := cs.Current.Lookup("ns", "coll").StringValueOK()
				elems, _ := cs.Current.Elements()
				seen = append(seen, fmt.Sprintf("%s:%s:%d", cs.Current.Lookup("operationType").StringValue(), coll, len(elems)))
			}
			if fmt.Sprint(seen) != fmt.Sprint(tc.wantSeen) {
				t.Errorf("seen %v, want %v", seen, tc.wantSeen)
			}
		})
	}
}

func TestTrimHistoryKeepsCaughtUpStreamGoing(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	coll := client.Database("app").Collection("c")
	cs, err := coll.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cs.Close(ctx) }()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, cs)
	srv.TrimHistory()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, cs); ev.DocumentKey[0].Value != int32(2) {
		t.Errorf("documentKey = %v, want _id 2", ev.DocumentKey)
	}
}
