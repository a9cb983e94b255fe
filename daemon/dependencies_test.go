package daemon

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/fscall"
	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestAnsweringAsksTheServiceTheErrorCameFrom: a gRPC status (wrapped,
// joined, or fscall's limit) is Firestore's, a driver error MongoDB's;
// each is answered by its own tracker; anything else counts.
func TestAnsweringAsksTheServiceTheErrorCameFrom(t *testing.T) {
	fs, mh := fsmeter.NewHealth(), newMongoHealth()
	deps := dependencies{firestore: fs, mongo: mh}
	since := time.Now()
	fsErrs := []error{
		status.Error(codes.Unavailable, "down"),
		fmt.Errorf("sync: cleaning up: %w", &fscall.NoAnswerError{Timeout: time.Second}),
		errors.Join(errors.New("collection a"), status.Error(codes.DeadlineExceeded, "slow")),
	}
	mongoErrs := []error{
		fmt.Errorf("resolve: %w", mongo.CommandError{Code: 91, Labels: []string{"RetryableWriteError"}}),
		fmt.Errorf("find: %w", context.DeadlineExceeded),
	}
	check := func(when string, errs []error, want bool) {
		t.Helper()
		for _, err := range errs {
			if got := deps.Answering(err, since); got != want {
				t.Errorf("%s: Answering(%v) = %v, want %v", when, err, got, want)
			}
		}
	}
	check("before any answer", fsErrs, false)
	check("before any answer", mongoErrs, false)
	check("an error of neither", []error{errors.New("bad event")}, true)

	fs.Finished("RunQuery", nil)
	check("Firestore answered", fsErrs, true)
	check("Firestore answered, MongoDB not", mongoErrs, false)
	mh.answered()
	check("MongoDB answered", mongoErrs, true)
	if deps.Answering(status.Error(codes.Unavailable, "down"), time.Now().Add(time.Second)) {
		t.Error("Answering for a time after the last answer is true")
	}
}

// TestMongoHealthFollowsTheClient: the monitors Open installs see MongoDB
// answer, and see nothing while it refuses connections.
func TestMongoHealthFollowsTheClient(t *testing.T) {
	uri, srv := mongotest.ForTest(t)
	mongotest.RequireFaults(t, srv)
	h := newMongoHealth()
	mc, err := connectMongo(uri, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	ctx := watchertest.Context(t, time.Minute)
	before := time.Now()
	if err := mc.Ping(ctx, readpref.Primary()); err != nil {
		t.Fatal(err)
	}
	if !h.answeredSince(before) {
		t.Fatal("a ping that succeeded is not an answer")
	}
	srv.RefuseConnections(time.Hour)
	srv.DropConnections()
	time.Sleep(200 * time.Millisecond) // what was in flight has ended
	down := time.Now()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := mc.Ping(pctx, readpref.Primary()); err == nil {
		t.Fatal("a ping succeeded while MongoDB refuses connections")
	}
	if h.answeredSince(down) {
		t.Error("MongoDB answered while it refused connections")
	}
	srv.RefuseConnections(0)
	watchertest.WaitFor(t, "MongoDB to answer again", func() bool {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return mc.Ping(pctx, readpref.Primary()) == nil
	})
	if !h.answeredSince(down) {
		t.Error("a ping that succeeded after the outage is not an answer")
	}
}
