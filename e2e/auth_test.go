package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// authWorld is a world whose MongoDB requires a user (SCRAM): the test's
// own client authenticates as that user. Against a real replica set the
// test skips: it creates the user itself.
func authWorld(t *testing.T, user, password string) *world {
	t.Helper()
	w := newWorld(t, mongotest.WithUser(user, password))
	if w.srv == nil {
		t.Skipf("needs a user the test creates, which only the in-process server offers (%s is set)", mongotest.EnvURI)
	}
	client, err := mongo.Connect(mongotest.ClientOptions(w.srv.UserURI(user, password)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	w.projects = client.Database(w.dbName).Collection("projects")
	return w
}

// writeURIFile writes a connection string to a file of its own, as a
// deployment mounts the secret for mongo.uriFile.
func writeURIFile(t *testing.T, uri string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mongo-uri")
	if err := os.WriteFile(path, []byte(uri+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// As in production, the daemon gets a user and password through
// mongo.uriFile (which wins over mongo.uri) and authenticates with
// SCRAM-SHA-256; it then works as without authentication, and never logs
// the password.
func TestDaemonAuthenticatesWithUserFromURIFile(t *testing.T) {
	const password = "uri-file-Pa55word"
	ctx := context.Background()
	w := authWorld(t, "watcher", password)
	doomed := w.addProject(ctx, "doomed", "red", 2, true)
	kept := w.addProject(ctx, "kept", "blue", 2, false)
	uriFile := writeURIFile(t, w.srv.UserURI("watcher", password)+"&authMechanism=SCRAM-SHA-256")
	s := w.setup()
	s.mongoURI = w.srv.URI() // no credentials: the file must be what is used
	d := startDaemon(t, s, "WATCHER_MONGO_URIFILE="+uriFile)
	d.waitReady(30 * time.Second)

	w.deleteProject(ctx, doomed)
	w.updateProject(ctx, kept, bsonSet("name", "kept 2"))
	eventually(t, applyTimeout, w.consistent)
	d.stop()
	if logs := d.logs.String(); strings.Contains(logs, password) {
		t.Errorf("the password appears in the watcher's output")
	}
}

// A wrong password makes the daemon fail at start, saying that
// authentication failed, without printing the password.
func TestDaemonWithWrongPasswordFailsAtStart(t *testing.T) {
	const wrong = "not-the-Pa55word"
	w := authWorld(t, "watcher", "the-right-one")
	uriFile := writeURIFile(t, w.srv.UserURI("watcher", wrong))
	s := w.setup()
	s.mongoURI = w.srv.URI()
	d := startDaemon(t, s, "WATCHER_MONGO_URIFILE="+uriFile)
	code := d.wait(60 * time.Second)
	logs := d.logs.String()
	if code != 1 {
		t.Errorf("exit code %d, want 1 (a runtime failure)", code)
	}
	if !strings.Contains(logs, "Authentication failed") {
		t.Errorf("the output does not say that authentication failed:\n%s", logs)
	}
	if strings.Contains(logs, wrong) {
		t.Errorf("the password appears in the watcher's output:\n%s", logs)
	}
}

func bsonSet(key string, v any) bson.D {
	return bson.D{{Key: "$set", Value: bson.D{{Key: key, Value: v}}}}
}
