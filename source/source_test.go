package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The parts of the decoded documents (package level, so the table is data).
var (
	decTok  = bson.D{{Key: "_data", Value: "82ABCDEF"}}
	decCT   = bson.Timestamp{T: 1_700_000_000, I: 2}
	decWall = time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	decNS   = bson.D{{Key: "db", Value: "collab"}, {Key: "coll", Value: "projects"}}
	key     = bson.D{{Key: "_id", Value: watchertest.OID}}
)

// base is a change of op with the common fields, then extra.
func base(op string, extra ...bson.E) bson.D {
	d := bson.D{{Key: "_id", Value: decTok}, {Key: "operationType", Value: op}, {Key: "clusterTime", Value: decCT},
		{Key: "wallTime", Value: bson.NewDateTimeFromTime(decWall)}, {Key: "ns", Value: decNS}}
	return append(d, extra...)
}

func raw(v any) bson.Raw { return watchertest.Raw(nil, v) }

var decodeCases = []struct {
	name    string
	in      bson.Raw
	want    event.Change
	wantErr bool
}{
	{"delete", raw(base("delete", bson.E{Key: "documentKey", Value: key})),
		event.Change{Op: "delete", DocumentKey: raw(key)}, false},
	{"update", raw(base("update", bson.E{Key: "documentKey", Value: key}, bson.E{Key: "updateDescription", Value: bson.D{
		{Key: "updatedFields", Value: bson.D{{Key: "a.b", Value: 1}}},
		{Key: "removedFields", Value: bson.A{"x", "y.z"}},
		{Key: "truncatedArrays", Value: bson.A{bson.D{{Key: "field", Value: "t"}, {Key: "newSize", Value: int32(1)}}}},
		{Key: "disambiguatedPaths", Value: bson.D{{Key: "a.b", Value: bson.A{"a.b"}}}},
	}})),
		event.Change{Op: "update", DocumentKey: raw(key),
			UpdatedFields:      raw(bson.D{{Key: "a.b", Value: 1}}),
			RemovedFields:      []string{"x", "y.z"},
			TruncatedArrays:    watchertest.RawArray(nil, bson.A{bson.D{{Key: "field", Value: "t"}, {Key: "newSize", Value: int32(1)}}}),
			DisambiguatedPaths: raw(bson.D{{Key: "a.b", Value: bson.A{"a.b"}}}),
		}, false},
	{"update with empty lists", raw(base("update", bson.E{Key: "documentKey", Value: key}, bson.E{Key: "updateDescription", Value: bson.D{
		{Key: "updatedFields", Value: bson.D{}}, {Key: "removedFields", Value: bson.A{}}, {Key: "truncatedArrays", Value: bson.A{}},
	}})),
		event.Change{Op: "update", DocumentKey: raw(key), UpdatedFields: raw(bson.D{})}, false},
	{"replace", raw(base("replace", bson.E{Key: "documentKey", Value: key},
		bson.E{Key: "fullDocument", Value: bson.D{{Key: "_id", Value: watchertest.OID}, {Key: "name", Value: "N"}}})),
		event.Change{Op: "replace", DocumentKey: raw(key), FullDocument: raw(bson.D{{Key: "_id", Value: watchertest.OID}, {Key: "name", Value: "N"}})}, false},
	{"null fullDocument", raw(base("update", bson.E{Key: "documentKey", Value: key}, bson.E{Key: "fullDocument", Value: nil})),
		event.Change{Op: "update", DocumentKey: raw(key)}, false},
	{"rename", raw(base("rename", bson.E{Key: "to", Value: bson.D{{Key: "db", Value: "collab"}, {Key: "coll", Value: "old"}}})),
		event.Change{Op: "rename", To: event.Namespace{DB: "collab", Coll: "old"}}, false},
	{"unknown fields are ignored", raw(base("delete", bson.E{Key: "documentKey", Value: key}, bson.E{Key: "txnNumber", Value: int64(3)})),
		event.Change{Op: "delete", DocumentKey: raw(key)}, false},

	{"no token", raw(bson.D{{Key: "operationType", Value: "delete"}}), event.Change{}, true},
	{"token not a document", raw(bson.D{{Key: "_id", Value: "x"}, {Key: "operationType", Value: "delete"}}), event.Change{}, true},
	{"no operationType", raw(bson.D{{Key: "_id", Value: decTok}}), event.Change{}, true},
	{"operationType not a string", raw(bson.D{{Key: "_id", Value: decTok}, {Key: "operationType", Value: 1}}), event.Change{}, true},
	{"clusterTime not a timestamp", raw(base("delete", bson.E{Key: "clusterTime", Value: "now"})), event.Change{}, true},
	{"wallTime not a date", raw(base("delete", bson.E{Key: "wallTime", Value: 5})), event.Change{}, true},
	{"documentKey not a document", raw(base("delete", bson.E{Key: "documentKey", Value: "k"})), event.Change{}, true},
	{"ns.coll not a string", raw(base("drop", bson.E{Key: "ns", Value: bson.D{{Key: "db", Value: "d"}, {Key: "coll", Value: 1}}})), event.Change{}, true},
	{"removedFields holds a number", raw(base("update", bson.E{Key: "updateDescription", Value: bson.D{
		{Key: "removedFields", Value: bson.A{1}}}})), event.Change{}, true},
	{"updatedFields not a document", raw(base("update", bson.E{Key: "updateDescription", Value: bson.D{
		{Key: "updatedFields", Value: bson.A{}}}})), event.Change{}, true},
	{"fullDocument not a document", raw(base("replace", bson.E{Key: "fullDocument", Value: "doc"})), event.Change{}, true},
	{"truncated BSON", raw(base("delete"))[:20], event.Change{}, true},
}

func TestDecodeChange(t *testing.T) {
	tok, wall := decTok, decWall
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeChange(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrUndecodableEvent) {
					t.Fatalf("err = %v, want ErrUndecodableEvent", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Token = raw(tok)
			// base() puts clusterTime, wallTime and ns first; a later duplicate wins.
			if v, err := tc.in.LookupErr("clusterTime"); err == nil {
				want.ClusterTime.T, want.ClusterTime.I = v.Timestamp()
			}
			want.WallTime = wall
			want.Namespace = event.Namespace{DB: "collab", Coll: "projects"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecodeChangeOwnsItsBytes(t *testing.T) {
	in := watchertest.Raw(t, bson.D{{Key: "_id", Value: bson.D{{Key: "_data", Value: "AA"}}}, {Key: "operationType", Value: "delete"},
		{Key: "documentKey", Value: bson.D{{Key: "_id", Value: "p1"}}}})
	ch, err := decodeChange(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 0
	}
	if id, ok := ch.DocumentKey.Lookup("_id").StringValueOK(); !ok || id != "p1" {
		t.Fatalf("documentKey changed with the driver's buffer: %v", ch.DocumentKey)
	}
}

func TestStartTimestamp(t *testing.T) {
	tests := []struct {
		in      string
		want    uint32
		wantErr bool
	}{
		{"2024-05-01T12:00:00Z", uint32(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).Unix()), false},
		{"2024-05-01T14:00:00+02:00", uint32(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).Unix()), false},
		{"yesterday", 0, true},
		{"1960-01-01T00:00:00Z", 0, true},
		{"2200-01-01T00:00:00Z", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			ts, err := startTimestamp(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if ts.T != tc.want || ts.I != 0 {
				t.Errorf("ts = %+v, want T=%d", ts, tc.want)
			}
		})
	}
}

func TestIsHistoryLost(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"286", mongo.CommandError{Code: 286, Name: "ChangeStreamHistoryLost"}, true},
		{"280", mongo.CommandError{Code: 280, Name: "ChangeStreamFatalError"}, true},
		{"wrapped", fmt.Errorf("open: %w", mongo.CommandError{Code: 286}), true},
		{"other code", mongo.CommandError{Code: 11000}, false},
		{"plain error", errors.New("286"), false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isHistoryLost(tc.err); got != tc.want {
				t.Errorf("IsHistoryLost(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestPipelineShape(t *testing.T) {
	p := pipeline()
	if len(p) != 2 || p[0][0].Key != "$match" || p[1][0].Key != "$project" {
		t.Fatalf("pipeline = %v, want $match then $project", p)
	}
	in := p[0][0].Value.(bson.D)[0].Value.(bson.D)[0].Value.(bson.A)
	var ops []string
	for _, v := range in {
		ops = append(ops, v.(string))
	}
	for _, op := range []string{"delete", "update", "replace", "drop", "rename", "dropDatabase", "invalidate"} {
		if !slices.Contains(ops, op) {
			t.Errorf("$match drops %q", op)
		}
	}
	if slices.Contains(ops, "insert") {
		t.Errorf("$match lets inserts through")
	}
	proj := map[string]any{}
	for _, e := range p[1][0].Value.(bson.D) {
		proj[e.Key] = e.Value
	}
	for _, k := range []string{"_id", "operationType", "clusterTime", "wallTime", "ns", "documentKey", "updateDescription", "fullDocument"} {
		if proj[k] != 1 {
			t.Errorf("$project does not keep %q: %v", k, proj[k])
		}
	}
}

// --- integration tests: mongotest.ForTest (or WATCHER_TEST_MONGO_URI) ---

func openSource(t *testing.T, ctx context.Context, coll *mongo.Collection, startAt string, token bson.Raw) *Source {
	t.Helper()
	src := NewSource(coll, startAt, zerolog.New(zerolog.NewTestWriter(t)))
	if err := src.Open(ctx, token); err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = src.Close(context.Background()) })
	return src
}

func mustExec(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// marker reads the "n" the tests write in updates, to tell changes apart.
func marker(t *testing.T, ch event.Change) int64 {
	t.Helper()
	v, err := ch.UpdatedFields.LookupErr("n")
	if err != nil {
		t.Fatalf("change %s %v has no n in updatedFields %v", ch.Op, ch.DocumentKey, ch.UpdatedFields)
	}
	n, ok := v.AsInt64OK()
	if !ok {
		t.Fatalf("n is %s", v.Type)
	}
	return n
}

func setN(t *testing.T, ctx context.Context, coll *mongo.Collection, id any, n int) {
	t.Helper()
	_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: n}}}})
	mustExec(t, err)
}

func TestSourceResumesWithoutGapOrDuplicate(t *testing.T) {
	coll, _ := watchertest.Projects(t)
	ctx := watchertest.Context(t, 30*time.Second)
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "p"}})
	mustExec(t, err)
	src := openSource(t, ctx, coll, "now", nil)
	for n := 1; n <= 3; n++ {
		setN(t, ctx, coll, "p", n)
	}
	first := watchertest.NextChange(t, ctx, src)
	if marker(t, first) != 1 {
		t.Fatalf("first change n=%d", marker(t, first))
	}
	mustExec(t, src.Close(ctx))
	setN(t, ctx, coll, "p", 4) // while closed

	again := openSource(t, ctx, coll, "now", first.Token)
	for want := int64(2); want <= 4; want++ {
		if got := marker(t, watchertest.NextChange(t, ctx, again)); got != want {
			t.Fatalf("after resume: n=%d, want %d", got, want)
		}
	}
	setN(t, ctx, coll, "p", 5)
	if got := marker(t, watchertest.NextChange(t, ctx, again)); got != 5 {
		t.Fatalf("n=%d, want 5", got)
	}
}

func TestSourceStartAtTime(t *testing.T) {
	coll, _ := watchertest.Projects(t)
	ctx := watchertest.Context(t, 30*time.Second)
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "p"}})
	mustExec(t, err)
	probe := openSource(t, ctx, coll, "now", nil)
	setN(t, ctx, coll, "p", 1)
	before := watchertest.NextChange(t, ctx, probe)
	mustExec(t, probe.Close(ctx))

	// Write n=2 once the server's clock is past the second of n=1.
	start := time.Unix(int64(before.ClusterTime.T)+1, 0).UTC()
	time.Sleep(time.Until(start.Add(100 * time.Millisecond)))
	setN(t, ctx, coll, "p", 2)
	setN(t, ctx, coll, "p", 3)

	src := openSource(t, ctx, coll, start.Format(time.RFC3339), nil)
	for want := int64(2); want <= 3; want++ {
		ch := watchertest.NextChange(t, ctx, src)
		if got := marker(t, ch); got != want {
			t.Fatalf("startAt %s: n=%d, want %d", start.Format(time.RFC3339), got, want)
		}
		if ch.ClusterTime.T < uint32(start.Unix()) {
			t.Errorf("change at %v, before startAt", ch.ClusterTime)
		}
	}
}

func TestSourceBadStartAt(t *testing.T) {
	coll, _ := watchertest.Projects(t)
	src := NewSource(coll, "last tuesday", zerolog.Nop())
	if err := src.Open(watchertest.Context(t, 30*time.Second), nil); err == nil {
		_ = src.Close(context.Background())
		t.Fatal("open with a bad startAt succeeded")
	}
}

func TestSourceResumeTokenAdvancesWhenIdle(t *testing.T) {
	coll, _ := watchertest.Projects(t)
	ctx := watchertest.Context(t, 30*time.Second)
	src := openSource(t, ctx, coll, "now", nil)
	if _, ok, err := src.Next(ctx); err != nil || ok {
		t.Fatalf("idle stream: ok=%v err=%v", ok, err)
	}
	before := src.ResumeToken()

	// An insert is filtered out server-side: nothing arrives, yet the
	// post-batch token moves past it.
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "p"}})
	mustExec(t, err)
	deadline := time.Now().Add(15 * time.Second)
	for bytes.Equal(src.ResumeToken(), before) {
		if time.Now().After(deadline) {
			t.Fatalf("resume token stayed %v while idle", before)
		}
		ch, ok, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			t.Fatalf("a change arrived: %+v", ch)
		}
	}
	idle := src.ResumeToken()
	mustExec(t, src.Close(ctx))

	// Resuming from the idle token starts after the insert.
	again := openSource(t, ctx, coll, "now", idle)
	setN(t, ctx, coll, "p", 7)
	if got := marker(t, watchertest.NextChange(t, ctx, again)); got != 7 {
		t.Fatalf("n=%d, want 7", got)
	}
}

func TestSourceHistoryLost(t *testing.T) {
	coll, srv := watchertest.Projects(t)
	mongotest.RequireFaults(t, srv)
	ctx := watchertest.Context(t, 30*time.Second)
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "p"}})
	mustExec(t, err)
	start := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	src := openSource(t, ctx, coll, "now", nil)
	setN(t, ctx, coll, "p", 1)
	tok := watchertest.NextChange(t, ctx, src).Token
	mustExec(t, src.Close(ctx))
	srv.TrimHistory()

	tests := []struct {
		name    string
		startAt string
		token   bson.Raw
	}{
		{"resume token", "now", tok},
		{"start time", start, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSource(coll, tc.startAt, zerolog.Nop())
			defer func() { _ = s.Close(context.Background()) }()
			err := s.Open(ctx, tc.token)
			if err == nil {
				_, _, err = s.Next(ctx)
			}
			if !isHistoryLost(err) {
				t.Fatalf("err = %v, want history lost", err)
			}
		})
	}
}
