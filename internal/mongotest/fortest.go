package mongotest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnvURI names the environment variable that points integration tests at a
// real replica set instead of the in-process server.
const EnvURI = "WATCHER_TEST_MONGO_URI"

// ForTest returns the MongoDB URI an integration test should use:
// WATCHER_TEST_MONGO_URI when set (srv is nil: a real replica set), else a
// fresh in-process server (closed when the test ends).
func ForTest(t testing.TB, opts ...Option) (uri string, srv *Server) {
	t.Helper()
	if uri := os.Getenv(EnvURI); uri != "" {
		return uri, nil
	}
	srv = New(t, opts...)
	return srv.URI(), srv
}

// ClientOptions are the driver options of a test's client for uri: it
// rechecks a server every 500 ms instead of the default 10 s, so a failed
// check (a fault injected, or a first check lost under CI load) does not
// leave the server Unknown for 10 s, and allows 30 s to select one.
func ClientOptions(uri string) *options.ClientOptions {
	return options.Client().ApplyURI(uri).
		SetHeartbeatInterval(500 * time.Millisecond).
		SetServerSelectionTimeout(30 * time.Second)
}

// RequireFaults skips the test, saying why, when srv is nil (a real server:
// no fault injection).
func RequireFaults(t testing.TB, srv *Server) {
	t.Helper()
	if srv == nil {
		t.Skipf("needs fault injection, which only the in-process server offers (%s is set)", EnvURI)
	}
}

// DBName returns a database name unique to this test (safe on a shared real
// replica set): the test name, sanitized, and a random suffix.
func DBName(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("t_%s_%08x", name, rand.Uint32())
}
