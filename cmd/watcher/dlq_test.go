package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestDLQCommands runs dlq list, retry and purge through the built binary
// against mongotest and the Firestore emulator.
func TestDLQCommands(t *testing.T) {
	fs, projectID := firestoretest.Client(t)
	uri, _ := mongotest.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mc, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = mc.Disconnect(context.Background()) }()
	db := mongotest.DBName(t)
	store := deadletter.New(mc.Database(db).Collection("deadLetters"))
	seedDeadLetters(ctx, t, fs, store)
	// p2 was renamed again after its letter: a retry applies the name it has now.
	if _, err := mc.Database(db).Collection("projects").InsertOne(ctx, bson.D{{Key: "_id", Value: "p2"}, {Key: "name", Value: "Newest"}}); err != nil {
		t.Fatal(err)
	}
	id1, id2, id3 := deadletter.ID(dlqToken("T1")), deadletter.ID(dlqToken("T2")), deadletter.ID(dlqToken("T3"))
	env := []string{
		"FIRESTORE_EMULATOR_HOST=" + os.Getenv("FIRESTORE_EMULATOR_HOST"),
		"WATCHER_MONGO_URI=" + uri, "WATCHER_FIRESTORE_PROJECTID=" + projectID,
		"WATCHER_DEADLETTER_DATABASE=" + db, "WATCHER_MONGO_DATABASE=" + db, "WATCHER_SAFETY_MAXDOCSPEREVENT=1", "WATCHER_LOG_LEVEL=warn",
	}

	checkDLQList(t, env, id1, id2)
	for _, step := range dlqSteps(id1, id2, id3) {
		runDLQStep(ctx, t, env, store, step)
	}
	// An unknown id is the whole answer: one line on stderr, exit 1.
	for _, args := range [][]string{{"dlq", "retry", "nosuchid"}, {"dlq", "purge", "nosuchid", "--yes"}} {
		r := run(t, env, args...)
		if r.code != 1 || r.stdout != "" || strings.TrimSpace(r.stderr) != `watcher: no dead letter with id "nosuchid" (see "watcher dlq list")` {
			t.Errorf("%v: %v\nwant exit 1 and only the unknown id on stderr", args, r)
		}
	}
	left := firestoretest.ReadAll(t, fs, "storyboards")
	if len(left) != 1 || left["c"]["projectName"] != "Newest" {
		t.Fatalf("storyboards after the retries: %v, want only c with the project's current name Newest", left)
	}
}

// seedDeadLetters stores three dead letters, with tokens T1, T2 and T3, and
// the assets their retries act on: p1 has 2 assets, over a limit of 1; p2
// has one asset whose copied name is stale. The third letter has no valid
// id.
func seedDeadLetters(ctx context.Context, t *testing.T, fs *firestore.Client, store *deadletter.Store) {
	t.Helper()
	firestoretest.Seed(t, fs, "storyboards", map[string]map[string]any{
		"a": {"projectId": "p1"}, "b": {"projectId": "p1"}, "c": {"projectId": "p2", "projectName": "old"},
	})
	at := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	key := func(id any) bson.Raw { b, _ := bson.Marshal(bson.D{{Key: "_id", Value: id}}); return b }
	letters := []event.DeadLetter{
		{Kind: "ProjectDeleted", ProjectID: "p1", Op: "delete", DocumentKey: key("p1"), Token: dlqToken("T1"),
			ClusterTime: bson.Timestamp{T: 1, I: 1}, Reason: event.ReasonSafetyLimit, Error: "too many", Attempts: 1, FirstFailedAt: at, LastFailedAt: at},
		{Kind: "ProjectUpdated", ProjectID: "p2", Op: "update", DocumentKey: key("p2"), Token: dlqToken("T2"), Set: map[string]any{"name": "New"},
			ClusterTime: bson.Timestamp{T: 2, I: 1}, Reason: event.ReasonRetriesExhausted, Error: "unavailable", Attempts: 8, FirstFailedAt: at, LastFailedAt: at},
		{Kind: "ProjectDeleted", Op: "delete", DocumentKey: key(int32(7)), Token: dlqToken("T3"),
			ClusterTime: bson.Timestamp{T: 3, I: 1}, Reason: event.ReasonInvalidID, Error: "bad id", Attempts: 1, FirstFailedAt: at, LastFailedAt: at},
	}
	for _, l := range letters {
		if err := store.Add(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
}

// dlqToken is the resume token {_data: s}.
func dlqToken(s string) bson.Raw {
	b, _ := bson.Marshal(bson.D{{Key: "_data", Value: s}})
	return b
}

// checkDLQList checks dlq list and dlq list --json on the three seeded
// letters.
func checkDLQList(t *testing.T, env []string, id1, id2 string) {
	t.Helper()
	r := run(t, env, "dlq", "list")
	if r.code != 0 || len(strings.Split(strings.TrimSpace(r.stdout), "\n")) != 4 {
		t.Fatalf("list: %v", r)
	}
	for _, want := range []string{"REASON", id1, "safety-limit", "retries-exhausted", "invalid-id", `({"_id": {"$numberInt":"7"}})`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, r.stdout)
		}
	}
	r = run(t, env, "dlq", "list", "--json")
	var items []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &items); err != nil || r.code != 0 || len(items) != 3 {
		t.Fatalf("list --json: %v (%v)", r, err)
	}
	if items[1]["id"] != id2 || items[1]["set"].(map[string]any)["name"] != "New" || items[1]["attempts"] != float64(8) {
		t.Errorf("list --json item: %v", items[1])
	}
}

// dlqStep is one dlq command and the dead letters it must leave.
type dlqStep struct {
	name     string
	args     []string
	wantCode int
	wantOut  string
	wantLeft []string
}

// dlqSteps are the retries and purges of TestDLQCommands, in order (each
// starts from what the one before left); id1..id3 are the seeded letters'.
func dlqSteps(id1, id2, id3 string) []dlqStep {
	return []dlqStep{
		{"retry needs a target", []string{"dlq", "retry"}, 2, "", []string{id1, id2, id3}},
		{"safety limit still holds", []string{"dlq", "retry", id1}, 1, "check the project, then retry with --force", []string{id1, id2, id3}},
		{"update applied", []string{"dlq", "retry", id2}, 0, id2 + ": applied", []string{id1, id3}},
		{"--force deletes over the limit", []string{"dlq", "retry", id1, "--force"}, 0, id1 + ": applied", []string{id3}},
		{"invalid id cannot be retried", []string{"dlq", "retry", "--all"}, 1, "purge it", []string{id3}},
		{"purge needs --yes", []string{"dlq", "purge", "--all"}, 2, "", []string{id3}},
		{"purge unknown id", []string{"dlq", "purge", "nope", "--yes"}, 1, "", []string{id3}},
		{"purge", []string{"dlq", "purge", id3, "--yes"}, 0, "purged " + id3, nil},
	}
}

// runDLQStep runs step's command and checks its exit code, output and the
// dead letters left in store.
func runDLQStep(ctx context.Context, t *testing.T, env []string, store *deadletter.Store, step dlqStep) {
	t.Helper()
	r := run(t, env, step.args...)
	if r.code != step.wantCode || !strings.Contains(r.stdout, step.wantOut) {
		t.Fatalf("%s: %v\nwant exit %d and stdout containing %q", step.name, r, step.wantCode, step.wantOut)
	}
	ls, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range ls {
		got = append(got, l.ID)
	}
	if strings.Join(got, ",") != strings.Join(step.wantLeft, ",") {
		t.Fatalf("%s: dead letters left %v, want %v", step.name, got, step.wantLeft)
	}
}
