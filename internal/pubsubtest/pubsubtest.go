// Package pubsubtest holds helpers for the tests of the event bus: the
// Pub/Sub emulator (PUBSUB_EMULATOR_HOST; scripts/with-pubsub-emulator.sh
// starts one), a client on a project of the test's own, a client on a
// connection of the test's choosing (a proxy that cuts it), and the
// client library's in-process fake (pstest) for what the emulator does
// not implement.
package pubsubtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/projectwatcher/watcher/bus"
	"github.com/projectwatcher/watcher/config"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// HowToStart tells a developer how to run the tests that need the emulator.
const HowToStart = "the Pub/Sub emulator is not configured (" + bus.EmulatorEnv + " is unset): start it with " +
	"`gcloud beta emulators pubsub start --host-port=127.0.0.1:8085` and then " +
	"`export " + bus.EmulatorEnv + "=127.0.0.1:8085`, or run the tests through scripts/with-pubsub-emulator.sh (make test does)"

// RequireEmulator returns the emulator's host:port. Without it the test
// fails when env CI is set and is skipped otherwise, saying how to start it.
func RequireEmulator(t testing.TB) string {
	t.Helper()
	if host := os.Getenv(bus.EmulatorEnv); host != "" {
		return host
	}
	if os.Getenv("CI") != "" {
		t.Fatal(HowToStart)
	}
	t.Skip(HowToStart)
	return ""
}

// Project returns a Pub/Sub project id for this test alone: the emulator
// keeps every project apart, so tests never see each other's messages.
func Project(t testing.TB) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(t.Name()))
	if len(name) > 40 {
		name = name[:40]
	}
	return "test-" + strings.Trim(name, "-") + "-" + hex.EncodeToString(b[:])
}

// Client connects to the emulator for project; closed when the test ends.
func Client(t testing.TB, project string) *pubsub.Client {
	t.Helper()
	RequireEmulator(t)
	return newClient(t, project)
}

// ClientVia connects for project through addr (host:port of the emulator,
// or of a proxy in front of it), plaintext.
func ClientVia(t testing.TB, project, addr string) *pubsub.Client {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, project, option.WithGRPCConn(conn))
}

// Fake starts the client library's in-process fake server (pstest) and
// returns a client of project on it; both end with the test. Tests on it
// say so: it is a fake, used where the emulator falls short (it does not
// forward to dead-letter topics).
func Fake(t testing.TB, project string) (*pubsub.Client, *pstest.Server) {
	t.Helper()
	srv := pstest.NewServer()
	t.Cleanup(func() { _ = srv.Close() })
	return ClientVia(t, project, srv.Addr), srv
}

func newClient(t testing.TB, project string, opts ...option.ClientOption) *pubsub.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := bus.Dial(ctx, project, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Bus is the bus configuration of the tests: the default names, five
// deliveries before the dead-letter topic.
func Bus(project string) config.Bus {
	return config.Bus{Mode: config.BusPublish, ProjectID: project, Topic: "project-events",
		Subscription: "project-events-workers", DeadLetterTopic: "project-events-dead", MaxDeliveryAttempts: 5}
}

// Retry is a retry policy with short backoffs, for the subscription and
// the worker in tests.
func Retry() config.Retry {
	return config.Retry{InitialBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, MaxAttempts: 3}
}

// Setup creates the bus of cfg in project (bus.Setup), failing the test
// on error.
func Setup(t testing.TB, c *pubsub.Client, project string, cfg config.Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := bus.Setup(ctx, c, project, cfg, Retry()); err != nil {
		t.Fatal(err)
	}
}
