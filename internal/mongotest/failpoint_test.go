package mongotest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// commandError runs cmd on db and returns its server error (nil if none).
func commandError(ctx context.Context, t *testing.T, db *mongo.Database, cmd bson.D) *mongo.CommandError {
	t.Helper()
	err := db.RunCommand(ctx, cmd).Err()
	if err == nil {
		return nil
	}
	var ce mongo.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("%v: %v (%T), want a server error", cmd[0].Key, err, err)
	}
	return &ce
}

func configureFailPoint(ctx context.Context, t *testing.T, client *mongo.Client, fp bson.D) {
	t.Helper()
	if err := client.Database("admin").RunCommand(ctx, fp).Err(); err != nil {
		t.Fatalf("configureFailPoint: %v", err)
	}
}

// openStream opens a change stream with a raw aggregate and returns its
// cursor id.
func openStream(ctx context.Context, t *testing.T, db *mongo.Database) int64 {
	t.Helper()
	var reply struct {
		Cursor struct {
			ID int64 `bson:"id"`
		} `bson:"cursor"`
	}
	err := db.RunCommand(ctx, bson.D{
		{Key: "aggregate", Value: "c"},
		{Key: "pipeline", Value: bson.A{bson.D{{Key: "$changeStream", Value: bson.D{}}}}},
		{Key: "cursor", Value: bson.D{}},
	}).Decode(&reply)
	if err != nil || reply.Cursor.ID == 0 {
		t.Fatalf("open change stream: %v (cursor %d)", err, reply.Cursor.ID)
	}
	return reply.Cursor.ID
}

func getMore(id int64) bson.D {
	return bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: "c"}, {Key: "maxTimeMS", Value: int64(10)}}
}

func TestFailCommandModesCountOnlyMatchingCommands(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	db := client.Database("app")
	configureFailPoint(ctx, t, client, bson.D{
		{Key: "configureFailPoint", Value: "failCommand"},
		{Key: "mode", Value: bson.D{{Key: "skip", Value: 1}}},
		{Key: "data", Value: bson.D{{Key: "failCommands", Value: bson.A{"count"}}, {Key: "errorCode", Value: 8}}},
	})
	count := bson.D{{Key: "count", Value: "c"}}
	if err := commandError(ctx, t, db, bson.D{{Key: "ping", Value: 1}}); err != nil {
		t.Fatalf("ping (not matched): %v", err)
	}
	if err := commandError(ctx, t, db, count); err != nil {
		t.Fatalf("first count (skipped): %v", err)
	}
	for i := range 2 { // then always on
		if err := commandError(ctx, t, db, count); err == nil || err.Code != 8 {
			t.Fatalf("count %d after the skip: %v, want code 8", i+2, err)
		}
	}
	configureFailPoint(ctx, t, client, bson.D{{Key: "configureFailPoint", Value: "failCommand"}, {Key: "mode", Value: "off"}})
	if err := commandError(ctx, t, db, count); err != nil {
		t.Fatalf("count after mode off: %v", err)
	}
	// times, and the times/skip document the driver's tests send
	configureFailPoint(ctx, t, client, bson.D{
		{Key: "configureFailPoint", Value: "failCommand"},
		{Key: "mode", Value: bson.D{{Key: "times", Value: int32(1)}, {Key: "skip", Value: int32(0)}}},
		{Key: "data", Value: bson.D{{Key: "failCommands", Value: bson.A{"count"}}, {Key: "errorCode", Value: 9}, {Key: "appName", Value: "someone else"}}},
	})
	if err := commandError(ctx, t, db, count); err != nil {
		t.Fatalf("count of another application: %v", err)
	}
}

func TestFailCommandClosesOrBlocksTheConnection(t *testing.T) {
	srv := startServer(t)
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()).SetAppName("me").SetRetryReads(false))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	ctx := testCtx(t)
	configureFailPoint(ctx, t, client, bson.D{
		{Key: "configureFailPoint", Value: "failCommand"},
		{Key: "mode", Value: bson.D{{Key: "times", Value: 1}}},
		{Key: "data", Value: bson.D{{Key: "failCommands", Value: bson.A{"find"}}, {Key: "closeConnection", Value: true}, {Key: "appName", Value: "me"}}},
	})
	err = client.Database("app").Collection("c").FindOne(ctx, bson.D{}).Err()
	if !mongo.IsNetworkError(err) {
		t.Fatalf("find with closeConnection: %v, want a network error", err)
	}
	configureFailPoint(ctx, t, client, bson.D{
		{Key: "configureFailPoint", Value: "failCommand"},
		{Key: "mode", Value: bson.D{{Key: "times", Value: 1}}},
		{Key: "data", Value: bson.D{{Key: "failCommands", Value: bson.A{"ping"}}, {Key: "blockConnection", Value: true}, {Key: "blockTimeMS", Value: 300}}},
	})
	start := time.Now()
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("blocked ping answered after %s, want at least 300ms", d)
	}
}

func TestServerAttachesErrorLabelsAsMongoDB(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	db := client.Database("app")
	write := bson.D{
		{Key: "insert", Value: "c"},
		{Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 1}}}},
		{Key: "txnNumber", Value: int64(1)},
	}

	srv.FailCommand("insert", 1, 91) // ShutdownInProgress on a retryable write
	if err := commandError(ctx, t, db, write); err == nil || !slices.Equal(err.Labels, []string{"RetryableWriteError"}) {
		t.Errorf("retryable write failed with 91: %+v, want the RetryableWriteError label", err)
	}
	srv.FailCommand("insert", 1, 11000)
	if err := commandError(ctx, t, db, write); err == nil || len(err.Labels) != 0 {
		t.Errorf("retryable write failed with 11000: %+v, want no label", err)
	}

	id := openStream(ctx, t, db)
	srv.FailCommand("getMore", 1, 234) // RetryChangeStream, met while the getMore runs
	if err := commandError(ctx, t, db, getMore(id)); err == nil || !slices.Equal(err.Labels, []string{"ResumableChangeStreamError"}) {
		t.Errorf("getMore failed with 234: %+v, want the ResumableChangeStreamError label", err)
	}
	if err := commandError(ctx, t, db, getMore(id)); err == nil || err.Code != 43 {
		t.Errorf("getMore after a failure: %+v, want CursorNotFound (the cursor is killed)", err)
	}

	id = openStream(ctx, t, db)
	srv.FailCommand("getMore", 1, 43, "CustomLabel") // labels given replace the server's
	if err := commandError(ctx, t, db, getMore(id)); err == nil || !slices.Equal(err.Labels, []string{"CustomLabel"}) {
		t.Errorf("getMore with labels given: %+v, want exactly them", err)
	}

	// failCommand fails a getMore before it takes its cursor: as on a real
	// server, no ResumableChangeStreamError, and the cursor lives on
	id = openStream(ctx, t, db)
	configureFailPoint(ctx, t, client, bson.D{
		{Key: "configureFailPoint", Value: "failCommand"},
		{Key: "mode", Value: bson.D{{Key: "times", Value: 1}}},
		{Key: "data", Value: bson.D{{Key: "failCommands", Value: bson.A{"getMore"}}, {Key: "errorCode", Value: 6}}},
	})
	if err := commandError(ctx, t, db, getMore(id)); err == nil || err.Code != 6 || len(err.Labels) != 0 {
		t.Errorf("getMore failed by failCommand: %+v, want code 6 without labels", err)
	}
	if err := commandError(ctx, t, db, getMore(id)); err != nil {
		t.Errorf("getMore after failCommand: %v, want the cursor still open", err)
	}
	configureFailPoint(ctx, t, client, bson.D{
		{Key: "configureFailPoint", Value: "failGetMoreAfterCursorCheckout"},
		{Key: "mode", Value: bson.D{{Key: "times", Value: 1}}},
		{Key: "data", Value: bson.D{{Key: "errorCode", Value: 6}}},
	})
	if err := commandError(ctx, t, db, getMore(id)); err == nil || !slices.Equal(err.Labels, []string{"ResumableChangeStreamError"}) {
		t.Errorf("getMore failed after cursor checkout: %+v, want the ResumableChangeStreamError label", err)
	}

	// a change stream whose pipeline removes _id: 280, not resumable
	coll := db.Collection("c")
	cs, err := coll.Watch(ctx, mongo.Pipeline{{{Key: "$project", Value: bson.D{{Key: "_id", Value: 0}}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cs.Close(ctx) }()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil {
		t.Fatal(err)
	}
	if cs.Next(ctx) {
		t.Fatal("an event without _id was delivered")
	}
	var ce mongo.CommandError
	if !errors.As(cs.Err(), &ce) || ce.Code != 280 || !ce.HasErrorLabel("NonResumableChangeStreamError") {
		t.Errorf("stream without _id: %v, want 280 with NonResumableChangeStreamError", cs.Err())
	}
}

func TestErrorLabelsTable(t *testing.T) {
	cmd := func(name string, fields ...bson.E) *cmdCtx {
		return &cmdCtx{name: name, cmd: append(bson.D{{Key: name, Value: "c"}}, fields...)}
	}
	txn := bson.E{Key: "txnNumber", Value: int64(3)}
	inTxn := bson.E{Key: "autocommit", Value: false}
	stream := func(x *cmdCtx) *cmdCtx { x.changeStream = true; return x }
	tests := []struct {
		name   string
		x      *cmdCtx
		code   int32
		wcCode int32
		want   []string
	}{
		{"retryable write, retriable code", cmd("update", txn), 10107, 0, []string{labelRetryableWrite}},
		{"retryable write, retriable write concern error", cmd("update", txn), 0, 91, []string{labelRetryableWrite}},
		{"retryable write, other code", cmd("update", txn), 11000, 0, nil},
		{"write in a transaction", cmd("update", txn, inTxn), 10107, 0, nil},
		{"write without txnNumber", cmd("update"), 10107, 0, nil},
		{"change stream getMore, network code", stream(cmd("getMore")), 9001, 0, []string{labelResumable}},
		{"change stream getMore, retargeting code", stream(cmd("getMore")), 13388, 0, []string{labelResumable}},
		{"change stream getMore, RetryChangeStream", stream(cmd("getMore")), 234, 0, []string{labelResumable}},
		{"change stream getMore, CursorNotFound", stream(cmd("getMore")), 43, 0, nil},
		{"plain getMore", cmd("getMore"), 9001, 0, nil},
		{"change stream aggregate", stream(cmd("aggregate")), 133, 0, []string{labelResumable}},
		{"history lost", stream(cmd("getMore")), 286, 0, []string{labelNonResumable}},
		{"fatal", cmd("aggregate"), 280, 0, []string{labelNonResumable}},
	}
	for _, tc := range tests {
		if got := errorLabels(tc.x, tc.code, tc.wcCode); !slices.Equal(got, tc.want) {
			t.Errorf("%s: labels = %v, want %v", tc.name, got, tc.want)
		}
	}
}
