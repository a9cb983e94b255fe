package firestoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
)

// EmulatorEnv is the environment variable naming the emulator's host:port.
const EmulatorEnv = "FIRESTORE_EMULATOR_HOST"

// HowToStart tells a developer how to run the emulator-backed tests.
const HowToStart = "the Firestore emulator is not configured (" + EmulatorEnv + " is unset): start it with " +
	"`gcloud emulators firestore start --host-port=127.0.0.1:8181` and then " +
	"`export " + EmulatorEnv + "=127.0.0.1:8181`, or just run `make test`"

// maxProjectIDLen keeps generated ids within Firestore's 30-character limit.
const maxProjectIDLen = 30

// RequireEmulator returns the emulator's host:port. Without it the test fails
// when env CI is set (a missing emulator in CI is a broken pipeline) and is
// skipped otherwise, with a message saying how to start it.
func RequireEmulator(t testing.TB) string {
	t.Helper()
	host := os.Getenv(EmulatorEnv)
	if host != "" {
		return host
	}
	if os.Getenv("CI") != "" {
		t.Fatal(HowToStart)
	}
	t.Skip(HowToStart)
	return ""
}

// Client connects to the emulator named by FIRESTORE_EMULATOR_HOST under a
// project id unique to this test. The client is closed and the project's
// data dropped from the emulator when the test ends.
func Client(t testing.TB) (*firestore.Client, string) {
	t.Helper()
	host := RequireEmulator(t)
	projectID := ProjectID(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := firestore.NewClient(ctx, projectID)
	if err != nil {
		t.Fatalf("firestoretest: connecting to the emulator at %s: %v", host, err)
	}
	t.Cleanup(func() {
		if err := client.Close(); err != nil {
			t.Logf("firestoretest: closing client: %v", err)
		}
		dropProject(t, host, projectID)
	})
	return client, projectID
}

// ProjectID returns a fresh project id derived from the test's name:
// "test-<sanitized name>-<random>", at most 30 characters.
func ProjectID(t testing.TB) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("firestoretest: random project id: %v", err)
	}
	suffix := "-" + hex.EncodeToString(b[:])
	name := sanitize(t.Name())
	if room := maxProjectIDLen - len("test-") - len(suffix); len(name) > room {
		name = strings.TrimRight(name[:room], "-")
	}
	if name == "" {
		name = "x"
	}
	return "test-" + name + suffix
}

// sanitize lowercases s and keeps letters and digits, turning every run of
// other characters into one hyphen.
func sanitize(s string) string {
	var sb strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			sb.WriteRune(r)
			dash = false
			continue
		}
		if !dash && sb.Len() > 0 {
			sb.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(sb.String(), "-")
}

// dropProject asks the emulator to forget the project's documents so a long
// test run does not grow its memory. Failure is only logged.
func dropProject(t testing.TB, host, projectID string) {
	url := "http://" + host + "/emulator/v1/projects/" + projectID + "/databases/(default)/documents"
	req, err := http.NewRequest(http.MethodDelete, url, nil)
	if err != nil {
		t.Logf("firestoretest: dropping project %s: %v", projectID, err)
		return
	}
	httpClient := &http.Client{Timeout: 10 * time.Second}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Logf("firestoretest: dropping project %s: %v", projectID, err)
		return
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Logf("firestoretest: dropping project %s: status %s", projectID, resp.Status)
	}
}

// ClientWith opens a client of projectID with opts (a metered or fenced
// connection, say); it is closed when the test ends.
func ClientWith(t testing.TB, projectID string, opts ...option.ClientOption) *firestore.Client {
	t.Helper()
	client, err := firestore.NewClient(context.Background(), projectID, opts...)
	if err != nil {
		t.Fatalf("firestoretest: client of %s: %v", projectID, err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}
