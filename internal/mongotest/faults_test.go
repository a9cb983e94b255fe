package mongotest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestChangeStreamResumesAfterFaultsWithoutGapOrDuplicate(t *testing.T) {
	tests := []struct {
		name   string
		inject func(srv *Server)
	}{
		{"DropConnections", func(srv *Server) { srv.DropConnections() }},
		{"CloseOnCommand getMore", func(srv *Server) { srv.CloseOnCommand("getMore", 1) }},
		// no labels: the server attaches ResumableChangeStreamError to 91
		// itself, and the driver resumes after CursorNotFound (43) by its
		// code, which a real server does not label
		{"FailCommand getMore CursorNotFound", func(srv *Server) { srv.FailCommand("getMore", 1, 43) }},
		{"FailCommand getMore ShutdownInProgress", func(srv *Server) { srv.FailCommand("getMore", 2, 91) }},
		{"getMore and aggregate both fail once", func(srv *Server) {
			srv.FailCommand("getMore", 1, 43)
			srv.CloseOnCommand("aggregate", 1)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			client := connect(t, srv)
			ctx := testCtx(t)
			coll := client.Database("app").Collection("c")
			cs, err := coll.Watch(ctx, mongo.Pipeline{})
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			defer func() { _ = cs.Close(ctx) }()
			insert := func(from, to int32) {
				for i := from; i < to; i++ {
					// Right after a fault a write may fail even after the
					// driver's retry (the pool is cleared again by the
					// monitors' own failures), as with a real server: try
					// again; a duplicate key means the first try was applied.
					var err error
					for range 5 {
						_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}})
						if err == nil || mongo.IsDuplicateKeyError(err) {
							err = nil
							break
						}
						time.Sleep(100 * time.Millisecond)
					}
					if err != nil {
						t.Fatalf("insert %d: %v", i, err)
					}
				}
			}
			var got []int32
			read := func(n int) {
				for range n {
					ev := nextEvent(t, cs)
					got = append(got, ev.DocumentKey[0].Value.(int32))
				}
			}
			insert(0, 3)
			read(3)
			tc.inject(srv)
			insert(3, 6)
			read(3)
			insert(6, 7)
			read(1)
			want := []int32{0, 1, 2, 3, 4, 5, 6}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("documents seen = %v, want %v", got, want)
			}
		})
	}
}

func TestRetriedWriteIsAppliedOnce(t *testing.T) {
	tests := []struct {
		name   string
		inject func(srv *Server)
		write  func(ctx context.Context, c *mongo.Collection) error
	}{
		{
			name:   "insert failed with RetryableWriteError",
			inject: func(srv *Server) { srv.FailCommand("insert", 1, 91) }, // the server labels it RetryableWriteError
			write: func(ctx context.Context, c *mongo.Collection) error {
				_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "x"}, {Key: "n", Value: 1}})
				return err
			},
		},
		{
			name:   "insert reply lost",
			inject: func(srv *Server) { srv.CloseOnCommand("insert", 1) },
			write: func(ctx context.Context, c *mongo.Collection) error {
				_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "x"}, {Key: "n", Value: 1}})
				return err
			},
		},
		{
			name:   "update reply lost",
			inject: func(srv *Server) { srv.CloseOnCommand("update", 1) },
			write: func(ctx context.Context, c *mongo.Collection) error {
				_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "x"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, options.UpdateOne().SetUpsert(true))
				return err
			},
		},
		{
			name:   "findAndModify reply lost",
			inject: func(srv *Server) { srv.CloseOnCommand("findAndModify", 1) },
			write: func(ctx context.Context, c *mongo.Collection) error {
				return c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "x"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}},
					options.FindOneAndUpdate().SetUpsert(true)).Err()
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			client := connect(t, srv)
			ctx := testCtx(t)
			coll := client.Database("app").Collection("c")
			cs, err := coll.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetMaxAwaitTime(100*time.Millisecond))
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			defer func() { _ = cs.Close(ctx) }()
			tc.inject(srv)
			err = tc.write(ctx, coll)
			if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
				t.Fatalf("write: %v", err)
			}
			var doc struct {
				N int32 `bson:"n"`
			}
			if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "x"}}).Decode(&doc); err != nil {
				t.Fatalf("find: %v", err)
			}
			if doc.N != 1 {
				t.Errorf("n = %d, want 1 (applied exactly once)", doc.N)
			}
			events := 0
			for cs.TryNext(ctx) {
				events++
			}
			for cs.TryNext(ctx) { // the first TryNext may only consume the first batch
				events++
			}
			if events != 1 {
				t.Errorf("change events = %d, want 1", events)
			}
		})
	}
}

func TestLatencyAndRefusedConnectionsAreSurvived(t *testing.T) {
	tests := []struct {
		name   string
		inject func(srv *Server)
	}{
		{"latency", func(srv *Server) { srv.SetLatency(20 * time.Millisecond) }},
		{"refused then dropped", func(srv *Server) {
			srv.RefuseConnections(300 * time.Millisecond)
			srv.DropConnections()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			client := connect(t, srv)
			ctx := testCtx(t)
			coll := client.Database("app").Collection("c")
			if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
				t.Fatal(err)
			}
			tc.inject(srv)
			var err error
			for range 20 { // operations fail while connections are refused
				if _, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}}); err == nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("insert after fault: %v", err)
			}
			n, err := coll.CountDocuments(ctx, bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Errorf("count = %d, want 2", n)
			}
		})
	}
}

func TestCloseReturnsWaitingGetMore(t *testing.T) {
	srv := startServer(t)
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()).SetServerSelectionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	ctx := context.Background()
	// The getMore waits up to an hour unless Close wakes it: a Close that
	// does not would hang this test.
	cs, err := client.Database("app").Collection("c").Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetMaxAwaitTime(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cs.Close(ctx) }()
	done := make(chan bool, 1)
	go func() { done <- cs.Next(ctx) }()
	time.Sleep(200 * time.Millisecond) // let the getMore start waiting
	if err := srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if <-done {
		t.Errorf("Next returned an event from a closed server")
	}
	if cs.Err() == nil {
		t.Errorf("Next on a closed server: no error")
	}
}
