package fsmeter_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/fscall"
	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/tcpproxy"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// changes records what a Health reports to its onChange.
type changes struct {
	mu  sync.Mutex
	got []error
}

func (c *changes) add(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, err)
}

func (c *changes) all() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.got...)
}

func TestHealthFollowsTheOutcomes(t *testing.T) {
	var ch changes
	h := fsmeter.NewHealth()
	h.OnChange(ch.add)
	if h.Up() || !errors.Is(h.Err(), fsmeter.ErrNoAnswerYet) {
		t.Fatalf("a new Health: up %v, %v; want down with ErrNoAnswerYet", h.Up(), h.Err())
	}
	before := time.Now()
	h.Finished("RunQuery", nil)
	if !h.Up() || h.Err() != nil || !h.AnsweredSince(before) {
		t.Fatalf("after a success: up %v, %v, answered since %v; want up", h.Up(), h.Err(), h.AnsweredSince(before))
	}
	for _, code := range []codes.Code{codes.InvalidArgument, codes.AlreadyExists, codes.FailedPrecondition, codes.Aborted, codes.Canceled} {
		h.Finished("BatchWrite", status.Error(code, "about the data"))
		if !h.Up() {
			t.Fatalf("down after %v: an answer about the data (or a cancel) is not a failure", code)
		}
	}
	h.Finished("RunQuery", status.Error(codes.Unavailable, "connection refused"))
	err := h.Err()
	for _, want := range []string{"Firestore calls failing since ", "RunQuery", "Unavailable", "connection refused"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Err after Unavailable = %v, want it to say %q", err, want)
		}
	}
	h.Finished("RunQuery", status.Error(codes.Canceled, "context canceled"))
	if h.Up() {
		t.Error("a cancelled call brought Firestore up")
	}
	after := time.Now()
	if h.AnsweredSince(after) {
		t.Error("AnsweredSince a time after the last answer is true")
	}
	h.Finished("BatchWrite", nil)
	got := ch.all()
	if len(got) != 3 || got[0] != nil || got[1] == nil || got[2] != nil {
		t.Errorf("onChange got %v, want up, down, up", got)
	}
}

func TestFailingCodes(t *testing.T) {
	want := []codes.Code{codes.Unknown, codes.DeadlineExceeded, codes.NotFound, codes.PermissionDenied,
		codes.ResourceExhausted, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss, codes.Unauthenticated}
	got := fsmeter.FailingCodes()
	if len(got) != len(want) {
		t.Fatalf("FailingCodes = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("FailingCodes = %v, want %v", got, want)
		}
	}
}

// codeRecorder keeps the codes of the finished RPCs.
type codeRecorder struct {
	mu    sync.Mutex
	codes []codes.Code
}

func (r *codeRecorder) Call(_ string, code codes.Code, _, _ int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.codes = append(r.codes, code)
}

func (r *codeRecorder) last() codes.Code {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.codes) == 0 {
		return codes.OK
	}
	return r.codes[len(r.codes)-1]
}

// TestHealthThroughAClient: the RPCs of a client carrying the options
// feed its Health. Against the emulator it is up; behind a blackholed
// proxy a query that fscall's idle limit ends counts as DeadlineExceeded
// naming the limit (not as Canceled), and Health is down with it; a query
// the caller cancels changes nothing.
func TestHealthThroughAClient(t *testing.T) {
	seed, projectID := firestoretest.Client(t)
	seedBilling(t, seed)
	p, err := tcpproxy.Start(firestoretest.RequireEmulator(t), tcpproxy.WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	h := fsmeter.NewHealth()
	rec := &codeRecorder{}
	client := meteredClient(t, projectID, rec, p.Addr(), h)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.Collection("assets").Documents(ctx).GetAll(); err != nil {
		t.Fatal(err)
	}
	if !h.Up() {
		t.Fatalf("Health after a query that succeeded: %v", h.Err())
	}

	h.Finished("RunQuery", status.Error(codes.Unavailable, "down"))
	it := client.Collection("assets").Documents(ctx)
	if _, err := it.Next(); err != nil {
		t.Fatal(err)
	}
	it.Stop()
	waitUntil(t, "a query stopped after its first document to count as an answer", h.Up)

	p.Blackhole()
	cancelled, stop := context.WithCancel(ctx)
	go func() { time.Sleep(200 * time.Millisecond); stop() }()
	if _, err := client.Collection("assets").Documents(cancelled).GetAll(); err == nil {
		t.Fatal("a query through a blackhole succeeded")
	}
	// The RPC may finish a moment after the iterator returned.
	waitUntil(t, "the cancelled query to be recorded", func() bool { return rec.last() == codes.Canceled })
	if !h.Up() {
		t.Fatalf("a query the caller cancelled brought Health down: %v", h.Err())
	}
	idle := fscall.New(500 * time.Millisecond).Stream(ctx)
	defer idle.Stop()
	if _, err := client.Collection("assets").Documents(idle.Context()).GetAll(); err == nil {
		t.Fatal("a query through a blackhole succeeded")
	}
	waitUntil(t, "the query the idle limit ended to be recorded", func() bool { return rec.last() != codes.Canceled })
	if got := rec.last(); got != codes.DeadlineExceeded {
		t.Errorf("the query the idle limit ended was recorded with %v, want DeadlineExceeded", got)
	}
	if err := h.Err(); err == nil || !strings.Contains(err.Error(), "no answer from Firestore within firestore.callTimeout (500ms)") {
		t.Errorf("Health after the idle limit: %v, want down naming the limit", err)
	}
}

// TestHealthNamesWhatFirestoreSaid: a status the emulator never sends
// (permission denied), from a server that answers every RPC with it.
func TestHealthNamesWhatFirestoreSaid(t *testing.T) {
	addr := firestoretest.Refusing(t, codes.PermissionDenied, "Missing or insufficient permissions.")
	h := fsmeter.NewHealth()
	client := meteredClient(t, "test-refused", nil, addr, h)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.Collection("assets").Limit(1).Documents(ctx).GetAll(); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("query: %v, want PermissionDenied", err)
	}
	if err := h.Err(); err == nil || !strings.Contains(err.Error(), "PermissionDenied") || !strings.Contains(err.Error(), "Missing or insufficient permissions.") {
		t.Errorf("Health: %v, want down with what Firestore said", err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
