package watchertest

import (
	"context"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/mongotest"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Mongo connects to the MongoDB of the test (mongotest.ForTest: the
// in-process test server, or WATCHER_TEST_MONGO_URI) and returns a database
// unique to the test, dropped at its end, and the test server (nil for a
// real replica set).
func Mongo(t testing.TB, opts ...mongotest.Option) (*mongo.Database, *mongotest.Server) {
	t.Helper()
	db, _, srv := MongoURI(t, opts...)
	return db, srv
}

// MongoURI is Mongo, with the URI a process under test connects with.
func MongoURI(t testing.TB, opts ...mongotest.Option) (*mongo.Database, string, *mongotest.Server) {
	t.Helper()
	uri, srv := mongotest.ForTest(t, opts...)
	client, err := mongo.Connect(mongotest.ClientOptions(uri).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	db := client.Database(mongotest.DBName(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
	})
	return db, uri, srv
}

// Projects is the projects collection of the test's database.
func Projects(t testing.TB) (*mongo.Collection, *mongotest.Server) {
	t.Helper()
	db, srv := Mongo(t)
	return db.Collection("projects"), srv
}
