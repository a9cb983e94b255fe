package resume

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func mongoClient(t *testing.T) (*mongo.Client, string) {
	t.Helper()
	uri, _ := mongotest.ForTest(t)
	client, err := mongo.Connect(mongotest.ClientOptions(uri).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client, mongotest.DBName(t)
}

func TestMongoStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	client, db := mongoClient(t)
	cfg := config.Resume{Store: "mongo", Name: "projects-firestore", Database: db, Collection: "checkpoints"}
	s := NewMongoStore(client, cfg)
	other := NewMongoStore(client, config.Resume{Name: "other-stream", Database: db, Collection: "checkpoints"})

	if _, ok, err := s.Load(ctx); err != nil || ok {
		t.Fatalf("Load without a checkpoint = ok %v, err %v", ok, err)
	}
	cps := []event.Checkpoint{
		{Token: token(t, "8263A1B2C3000000012B"), ClusterTime: bson.Timestamp{T: 1671541443, I: 1}, SavedAt: time.Date(2024, 5, 1, 10, 0, 0, 123000000, time.UTC)},
		{Token: token(t, "8263A1B2C4000000022B"), ClusterTime: bson.Timestamp{T: 1671541444, I: 2}, SavedAt: time.Date(2024, 5, 1, 10, 0, 1, 0, time.UTC)},
	}
	for i, cp := range cps {
		if err := s.Save(ctx, cp); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
		got, ok, err := NewMongoStore(client, cfg).Load(ctx)
		if err != nil || !ok {
			t.Fatalf("load %d: ok %v, err %v", i, ok, err)
		}
		if !sameCheckpoint(got, cp) {
			t.Fatalf("load %d = %+v, want %+v", i, got, cp)
		}
	}
	if err := other.Save(ctx, event.Checkpoint{Token: token(t, "x")}); err != nil {
		t.Fatal(err)
	}

	// One document per stream name, in the documented shape.
	coll := client.Database(db).Collection("checkpoints")
	cur, err := coll.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var all []bson.Raw
	if err := cur.All(ctx, &all); err != nil || len(all) != 2 {
		t.Fatalf("%d checkpoint documents (%v), want 2", len(all), err)
	}
	var doc struct {
		ID          string         `bson:"_id"`
		Token       bson.Raw       `bson:"token"`
		ClusterTime bson.Timestamp `bson:"clusterTime"`
		SavedAt     time.Time      `bson:"savedAt"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "projects-firestore"}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if string(doc.Token) != string(cps[1].Token) || doc.ClusterTime != cps[1].ClusterTime || !doc.SavedAt.Equal(cps[1].SavedAt) {
		t.Fatalf("stored document %+v, want the last checkpoint", doc)
	}

	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx); err != nil || ok {
		t.Fatalf("Load after Reset = ok %v, err %v", ok, err)
	}
	if _, ok, err := other.Load(ctx); err != nil || !ok {
		t.Fatalf("Reset removed another stream's checkpoint: ok %v, err %v", ok, err)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatalf("Reset without a checkpoint = %v", err)
	}
}

func TestMongoStoreCorrupt(t *testing.T) {
	ctx := context.Background()
	client, db := mongoClient(t)
	coll := client.Database(db).Collection("checkpoints")
	tests := []struct {
		name string
		doc  bson.D
	}{
		{"no token", bson.D{{Key: "_id", Value: "no-token"}, {Key: "clusterTime", Value: bson.Timestamp{T: 1}}}},
		{"token of wrong type", bson.D{{Key: "_id", Value: "bad-token"}, {Key: "token", Value: "abc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := coll.InsertOne(ctx, tt.doc); err != nil {
				t.Fatal(err)
			}
			name := tt.doc[0].Value.(string)
			_, ok, err := NewMongoStore(client, config.Resume{Name: name, Database: db, Collection: "checkpoints"}).Load(ctx)
			if !errors.Is(err, ErrCorrupt) || ok {
				t.Fatalf("Load = ok %v, err %v; want ErrCorrupt", ok, err)
			}
		})
	}
}

func TestMongoStoreSaveWithoutToken(t *testing.T) {
	client, db := mongoClient(t)
	s := NewMongoStore(client, config.Resume{Name: "n", Database: db, Collection: "checkpoints"})
	if err := s.Save(context.Background(), event.Checkpoint{}); !errors.Is(err, errNoToken) {
		t.Fatalf("Save = %v, want errNoToken", err)
	}
}
