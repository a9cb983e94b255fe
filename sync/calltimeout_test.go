package sync

import (
	"context"
	"path"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/tcpproxy"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// blackholeAt returns a client of projectID that reaches the emulator
// through a loopback proxy, and blackholes the proxy (Firestore stops
// answering, connections stay open) right before the first RPC named
// method is sent ("" : before any).
func blackholeAt(t *testing.T, projectID, method string) *firestore.Client {
	t.Helper()
	p, err := tcpproxy.Start(firestoretest.RequireEmulator(t), tcpproxy.WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if method == "" {
		p.Blackhole()
	}
	trip := func(full string) {
		if path.Base(full) == method {
			p.Blackhole()
		}
	}
	conn, err := grpc.NewClient("passthrough:///"+p.Addr(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(func(ctx context.Context, m string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			trip(m)
			return invoker(asOwner(ctx), m, req, reply, cc, opts...)
		}),
		grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, m string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			trip(m)
			return streamer(asOwner(ctx), desc, cc, m, opts...)
		}))
	if err != nil {
		t.Fatal(err)
	}
	client, err := firestore.NewClient(context.Background(), projectID, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// TestCallsFailWithinCallTimeoutWhenFirestoreDoesNotAnswer: whichever
// call Firestore stops answering (a query, a listing, a page of writes, a
// count), the event fails within about firestore.callTimeout with a
// DeadlineExceeded status naming Firestore and the limit, which the
// watcher retries as transient, instead of hanging while the client
// library waits and retries by itself.
func TestCallsFailWithinCallTimeoutWhenFirestoreDoesNotAnswer(t *testing.T) {
	const callTimeout = time.Second
	cases := []struct {
		name, method string
		opts         []Option
	}{
		{name: "query", method: "RunQuery"},
		{name: "from the start", method: ""},
		{name: "page of writes", method: "BatchWrite"},
		{name: "subcollection ids", method: "ListCollectionIds"},
		{name: "subcollection documents", method: "ListDocuments"},
		{name: "count for a large limit", method: "RunAggregationQuery", opts: []Option{WithLimit(maxBufferedDocs + 1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seed, projectID := firestoretest.Client(t)
			firestoretest.SeedPaths(t, seed, docs{
				"storyboards/s1":          {"projectId": "p1"},
				"storyboards/s1/frames/f": {"n": 1},
				"aiAnalyses/a1":           {"projectId": "p1"},
			})
			client := blackholeAt(t, projectID, tc.method)
			a, err := New(client, threeCollections(ModeDelete), zerolog.Nop(), append(tc.opts, WithCallTimeout(callTimeout))...)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			_, err = a.Apply(ctx, event.Event{Kind: event.ProjectDeleted, ProjectID: "p1"})
			took := time.Since(start)
			if took > callTimeout+5*time.Second {
				t.Errorf("the delete took %s against a Firestore that does not answer, want about firestore.callTimeout (%s)", took, callTimeout)
			}
			if status.Code(err) != codes.DeadlineExceeded {
				t.Fatalf("error %v (code %v), want DeadlineExceeded", err, status.Code(err))
			}
			if want := "no answer from Firestore within firestore.callTimeout (1s)"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if !watcher.IsTransient(err) {
				t.Errorf("watcher.IsTransient(%v) = false: the event would be dead-lettered instead of retried", err)
			}
		})
	}
}

// TestCallTimeoutLeavesAnsweringFirestoreAlone: a limit shorter than the
// whole event but longer than any wait for one answer does not fail it.
func TestCallTimeoutLeavesAnsweringFirestoreAlone(t *testing.T) {
	a, client, _ := newApplier(t, threeCollections(ModeDelete), WithCallTimeout(2*time.Second), WithPageSize(5))
	seed := docs{}
	for i := range 60 {
		seed["storyboards/s"+string(rune('a'+i%26))+string(rune('a'+i/26))] = map[string]any{"projectId": "p1"}
	}
	firestoretest.SeedPaths(t, client, seed)
	rep, err := a.Apply(testContext(t), event.Event{Kind: event.ProjectDeleted, ProjectID: "p1"})
	if err != nil || rep.Total() != 60 {
		t.Fatalf("Apply: %v, %d matched, want 60", err, rep.Total())
	}
}

func TestWithCallTimeoutRefusesZero(t *testing.T) {
	if _, err := New(clientAt(t, "127.0.0.1:1"), threeCollections(ModeDelete), zerolog.Nop(), WithCallTimeout(0)); err == nil {
		t.Fatal("New accepted a call timeout of 0")
	}
}
