package fsfence_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/fsfence"
	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// gate allows writes until its term is ended.
type gate struct{ ended atomic.Bool }

var errEnded = errors.New("the test ended the term")

func (g *gate) Allow() error {
	if g.ended.Load() {
		return errEnded
	}
	return nil
}

// fencedClient is a Firestore client on the emulator with f in front of a
// meter that counts into tally and a health that follows it.
func fencedClient(t *testing.T, f *fsfence.Fence, tally *fsmeter.Tally, h *fsmeter.Health) *firestore.Client {
	t.Helper()
	seed, projectID := firestoretest.Client(t)
	firestoretest.SeedPaths(t, seed, map[string]map[string]any{"assets/a1": {"projectId": "p1", "name": "old"}})
	opts, err := fsmeter.ClientOptions(tally, firestoretest.RequireEmulator(t), f.DialOptions(), h)
	if err != nil {
		t.Fatal(err)
	}
	return firestoretest.ClientWith(t, projectID, opts...)
}

// writes are the two ways the daemon's client writes: a BulkWriter page
// (BatchWrite) and a plain document write (Commit).
var writes = []struct {
	name   string
	method string
	write  func(ctx context.Context, c *firestore.Client, name string) error
}{
	{"bulk writer", "BatchWrite", func(ctx context.Context, c *firestore.Client, name string) error {
		bw := c.BulkWriter(ctx)
		job, err := bw.Update(c.Doc("assets/a1"), []firestore.Update{{Path: "name", Value: name}})
		if err != nil {
			return err
		}
		bw.End()
		_, err = job.Results()
		return err
	}},
	{"document update", "Commit", func(ctx context.Context, c *firestore.Client, name string) error {
		_, err := c.Doc("assets/a1").Update(ctx, []firestore.Update{{Path: "name", Value: name}})
		return err
	}},
}

// TestFenceRefusesWritesOutsideTheTerm: before a term, and once the term's
// gate refuses, no write RPC leaves the client (the meter sees none, the
// document keeps its value); the error is event.ErrTermEnded with gRPC
// status FailedPrecondition; reads pass; Firestore is not taken for down.
func TestFenceRefusesWritesOutsideTheTerm(t *testing.T) {
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var refusedLog []string
			f := fsfence.New(func(method string, _ error) { refusedLog = append(refusedLog, method) })
			tally, h := &fsmeter.Tally{}, fsmeter.NewHealth()
			c := fencedClient(t, f, tally, h)

			wantRefused(t, w.write(ctx, c, "before the term"), errNoTermCause)
			g := &gate{}
			f.Admit(g)
			if err := w.write(ctx, c, "in the term"); err != nil {
				t.Fatalf("a write during the term: %v", err)
			}
			g.ended.Store(true)
			wantRefused(t, w.write(ctx, c, "after the term"), errEnded)
			f.Admit(nil)
			wantRefused(t, w.write(ctx, c, "between terms"), errNoTermCause)

			snap, err := c.Doc("assets/a1").Get(ctx) // a read passes
			if err != nil {
				t.Fatalf("a read outside the term: %v", err)
			}
			if got := snap.Data()["name"]; got != "in the term" {
				t.Errorf("name = %v, want the value written in the term", got)
			}
			if n := tally.Counts().RPCs[w.method]; n != 1 {
				t.Errorf("%s RPCs sent = %d, want 1 (only the write in the term)", w.method, n)
			}
			if f.Refused() != 3 || len(refusedLog) != 3 || refusedLog[0] != w.method {
				t.Errorf("refused %d, told %v; want 3 refusals of %s", f.Refused(), refusedLog, w.method)
			}
			if err := h.Err(); err != nil {
				t.Errorf("refused writes made Firestore look down: %v", err)
			}
		})
	}
}

// errNoTermCause stands for the refusal between terms (any cause).
var errNoTermCause error

func wantRefused(t *testing.T, err, cause error) {
	t.Helper()
	if !errors.Is(err, event.ErrTermEnded) {
		t.Fatalf("write outside the term: %v, want event.ErrTermEnded", err)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("refusal %v does not carry its cause %v", err, cause)
	}
	if got := status.Code(err); got != codes.FailedPrecondition {
		t.Errorf("status code = %v, want FailedPrecondition (not retried)", got)
	}
}
