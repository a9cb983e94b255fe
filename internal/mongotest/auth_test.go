package mongotest

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func connectURI(t *testing.T, uri string, opts ...*options.ClientOptions) *mongo.Client {
	t.Helper()
	o := options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second)
	client, err := mongo.Connect(append([]*options.ClientOptions{o}, opts...)...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

func TestSCRAMAuthenticatesUsers(t *testing.T) {
	srv := startServer(t, WithUser("app", "s3cret,pa=ss"))
	ctx := testCtx(t)
	for _, mech := range []string{"", "SCRAM-SHA-256", "SCRAM-SHA-1"} {
		t.Run("mechanism "+mech, func(t *testing.T) {
			cred := options.Credential{Username: "app", Password: "s3cret,pa=ss", AuthMechanism: mech}
			client := connectURI(t, srv.URI(), options.Client().SetAuth(cred))
			coll := client.Database("db").Collection("c")
			if _, err := coll.InsertOne(ctx, bson.D{{Key: "m", Value: mech}}); err != nil {
				t.Fatalf("insert as an authenticated user: %v", err)
			}
		})
	}
	// the URI form, as the watcher's mongo.uriFile gives it
	client := connectURI(t, srv.UserURI("app", "s3cret,pa=ss"))
	if n, err := client.Database("db").Collection("c").CountDocuments(ctx, bson.D{}); err != nil || n != 3 {
		t.Fatalf("count through UserURI: %d, %v", n, err)
	}
}

func TestSCRAMRefusesWrongPasswordsAndAnonymousCommands(t *testing.T) {
	srv := startServer(t, WithUser("app", "right"))
	ctx := testCtx(t)
	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", "app", "wrong"},
		{"unknown user", "nobody", "right"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := "mongodb://" + url.UserPassword(tc.user, tc.password).String() + "@" + srv.Addr() + "/?replicaSet=rs0"
			client := connectURI(t, uri)
			err := client.Ping(ctx, nil)
			var ce mongo.CommandError
			if !errors.As(err, &ce) || ce.Code != 18 || !strings.Contains(err.Error(), "Authentication failed") {
				t.Fatalf("ping with %s: %v, want AuthenticationFailed (18)", tc.name, err)
			}
		})
	}
	anon := connectURI(t, srv.URI())
	if err := anon.Ping(ctx, nil); err != nil {
		t.Fatalf("ping needs no authentication: %v", err)
	}
	_, err := anon.Database("db").Collection("c").InsertOne(ctx, bson.D{})
	var ce mongo.CommandError
	if !errors.As(err, &ce) || ce.Code != 13 {
		t.Fatalf("insert without authentication: %v, want Unauthorized (13)", err)
	}
}

func TestCreateUserThroughTheLocalhostException(t *testing.T) {
	srv := startServer(t, func(c *config) { c.auth = true })
	ctx := testCtx(t)
	anon := connectURI(t, srv.URI())
	create := bson.D{{Key: "createUser", Value: "first"}, {Key: "pwd", Value: "pw"}, {Key: "roles", Value: bson.A{"root"}}, {Key: "mechanisms", Value: bson.A{"SCRAM-SHA-256"}}}
	if err := anon.Database("admin").RunCommand(ctx, create).Err(); err != nil {
		t.Fatalf("first createUser: %v", err)
	}
	second := bson.D{{Key: "createUser", Value: "second"}, {Key: "pwd", Value: "pw"}, {Key: "roles", Value: bson.A{}}}
	if err := anon.Database("admin").RunCommand(ctx, second).Err(); err == nil {
		t.Fatal("a second user created without authentication")
	}
	client := connectURI(t, srv.UserURI("first", "pw"))
	if err := client.Database("admin").RunCommand(ctx, second).Err(); err != nil {
		t.Fatalf("createUser as the first user: %v", err)
	}
	// first has only SCRAM-SHA-256 credentials
	sha1 := connectURI(t, srv.URI(), options.Client().SetAuth(options.Credential{Username: "first", Password: "pw", AuthMechanism: "SCRAM-SHA-1"}))
	if err := sha1.Ping(ctx, nil); err == nil {
		t.Error("SCRAM-SHA-1 accepted for a user created with SCRAM-SHA-256 only")
	}
}

func TestCredentialsAreNeverLogged(t *testing.T) {
	var buf syncBuf
	srv := New(t, WithUser("app", "hunter2-secret"), WithLogger(zerolog.New(&buf).Level(zerolog.TraceLevel)))
	ctx := testCtx(t)
	client := connectURI(t, srv.UserURI("app", "hunter2-secret"))
	create := bson.D{{Key: "createUser", Value: "other"}, {Key: "pwd", Value: "other-secret"}, {Key: "roles", Value: bson.A{}}}
	if err := client.Database("admin").RunCommand(ctx, create).Err(); err != nil {
		t.Fatal(err)
	}
	logs := buf.String()
	if !strings.Contains(logs, `"cmd":"createUser"`) {
		t.Fatalf("fixture: the trace log does not show the commands:\n%s", logs)
	}
	for _, secret := range []string{"hunter2-secret", "other-secret", "p="} {
		if strings.Contains(logs, secret) {
			t.Errorf("the server's log holds %q", secret)
		}
	}
}

// syncBuf is a bytes.Buffer safe for the server's goroutines.
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
