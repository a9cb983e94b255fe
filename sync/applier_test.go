package sync

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/rs/zerolog"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// countingListener accepts connections, counts them and drops them.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func listen(t *testing.T) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	cl := &countingListener{Listener: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			cl.accepted.Add(1)
			_ = conn.Close()
		}
	}()
	return cl
}

// clientAt returns a Firestore client aimed at addr (through the emulator
// variable, so no credentials are needed).
func clientAt(t *testing.T, addr string) *firestore.Client {
	t.Helper()
	t.Setenv(firestoretest.EmulatorEnv, addr)
	client, err := firestore.NewClient(context.Background(), "test-offline")
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// rpcCounter counts the gRPC calls a client makes, in all and by method.
type rpcCounter struct {
	calls atomic.Int64
	mu    sync.Mutex
	by    map[string]int // "RunQuery", "BatchWrite", ...
}

func (c *rpcCounter) count(method string) {
	c.calls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.by == nil {
		c.by = map[string]int{}
	}
	c.by[method[strings.LastIndex(method, "/")+1:]]++
}

// reset forgets every call so far and returns the calls by method.
func (c *rpcCounter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	by := c.by
	c.by = nil
	c.calls.Store(0)
	return by
}

// asOwner adds the emulator's admin credentials (what the client sends
// itself when it dials the emulator), which batch writes need.
func asOwner(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer owner")
}

func (c *rpcCounter) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	c.count(method)
	return invoker(asOwner(ctx), method, req, reply, cc, opts...)
}

func (c *rpcCounter) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	c.count(method)
	return streamer(asOwner(ctx), desc, cc, method, opts...)
}

// countingClient returns an emulator client whose every call is counted.
func countingClient(t *testing.T) (*firestore.Client, *rpcCounter) {
	t.Helper()
	host := firestoretest.RequireEmulator(t)
	counter := &rpcCounter{}
	conn, err := grpc.NewClient(host,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(counter.unary),
		grpc.WithStreamInterceptor(counter.stream))
	if err != nil {
		t.Fatalf("grpc client: %v", err)
	}
	t.Setenv(firestoretest.EmulatorEnv, "") // use conn, not the variable
	client, err := firestore.NewClient(context.Background(), firestoretest.ProjectID(t), option.WithGRPCConn(conn))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client, counter
}

func TestEmptyProjectIDIsRefusedWithoutAQuery(t *testing.T) {
	client, counter := countingClient(t)
	a, err := New(client, threeCollections(ModeDelete), zerolog.Nop())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := testContext(t)
	for _, id := range []string{"", "  "} {
		for _, ev := range []event.Event{
			{Kind: event.ProjectDeleted, ProjectID: id},
			// set and unset at once is refused too, but the id first
			{Kind: event.ProjectUpdated, ProjectID: id, Set: map[string]any{"name": "x"}, Unset: []string{"name"}},
			{Kind: 0, ProjectID: id},
		} {
			if _, err := a.Apply(ctx, ev); !errors.Is(err, event.ErrEmptyProjectID) {
				t.Errorf("Apply(%v %q) error = %v, want ErrEmptyProjectID", ev.Kind, id, err)
			}
		}
		// Below Apply, the path every query takes refuses it too.
		if _, err := a.deleteProject(ctx, id); !errors.Is(err, event.ErrEmptyProjectID) {
			t.Errorf("deleteProject(%q) error = %v, want ErrEmptyProjectID", id, err)
		}
		if _, err := a.updateProject(ctx, id, map[string]any{"name": "x"}, nil); !errors.Is(err, event.ErrEmptyProjectID) {
			t.Errorf("updateProject(%q) error = %v, want ErrEmptyProjectID", id, err)
		}
	}
	if _, err := a.Apply(ctx, event.Event{Kind: 0, ProjectID: "p1"}); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("Apply of an unknown kind: %v, want an error", err)
	}
	if n := counter.calls.Load(); n != 0 {
		t.Fatalf("%d Firestore calls for an empty project id or an unknown kind, want none", n)
	}

	// Control: a real id does query (so the check above can fail), for
	// either kind through Apply.
	for _, ev := range []event.Event{
		{Kind: event.ProjectDeleted, ProjectID: "p1"},
		{Kind: event.ProjectUpdated, ProjectID: "p1", Set: map[string]any{"name": "x"}},
	} {
		counter.reset()
		if _, err := a.Apply(ctx, ev); err != nil {
			t.Fatalf("Apply(%v p1): %v", ev.Kind, err)
		}
		if counter.calls.Load() == 0 {
			t.Errorf("Apply(%v p1) made no call: the counter does not see queries", ev.Kind)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	client := clientAt(t, "127.0.0.1:1")
	good := threeCollections(ModeDelete)
	tests := []struct {
		name   string
		edit   func(*config.Sync)
		opts   []Option
		client *firestore.Client
		want   string // part of the error; "" for none
	}{
		{name: "valid", edit: func(*config.Sync) {}},
		{name: "archive is valid", edit: func(c *config.Sync) { c.Mode = ModeArchive }},
		{name: "nil client", edit: func(*config.Sync) {}, client: (*firestore.Client)(nil), want: "nil Firestore client"},
		{name: "empty id field", edit: func(c *config.Sync) { c.IDField = "" }, want: "sync.idField: empty"},
		{name: "unknown mode", edit: func(c *config.Sync) { c.Mode = "purge" }, want: `got "purge"`},
		{name: "no collections", edit: func(c *config.Sync) { c.Collections = nil; c.Fields = nil }, want: "sync.collections: empty"},
		{name: "duplicate collection", edit: func(c *config.Sync) {
			c.Collections = append(c.Collections, config.Collection{Name: "aiAnalyses"})
		}, want: "duplicate collection"},
		{name: "collection path", edit: func(c *config.Sync) { c.Collections[0].Name = "a/b/c" }, want: "not a path"},
		{name: "field to unknown collection", edit: func(c *config.Sync) {
			c.Fields[0].Collections = []string{"nowhere"}
		}, want: `"nowhere" is not a configured collection`},
		{name: "empty target segment", edit: func(c *config.Sync) { c.Fields[0].Target = "project..name" }, want: "not a field path"},
		{name: "colliding targets", edit: func(c *config.Sync) {
			c.Fields = append(c.Fields, config.Field{Source: "slug", Target: "projectName.slug"})
		}, want: "collides"},
		{name: "target overwrites the id", edit: func(c *config.Sync) { c.Fields[0].Target = "projectId" }, want: "would overwrite sync.idField"},
		{name: "page size zero", edit: func(*config.Sync) {}, opts: []Option{WithPageSize(0)}, want: "page size"},
		{name: "page size too big", edit: func(*config.Sync) {}, opts: []Option{WithPageSize(501)}, want: "page size"},
		{name: "no concurrency", edit: func(*config.Sync) {}, opts: []Option{WithCollectionConcurrency(0)}, want: "concurrency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			cfg.Collections = append([]config.Collection(nil), good.Collections...)
			cfg.Fields = append([]config.Field(nil), good.Fields...)
			tt.edit(&cfg)
			c := client
			if tt.client != nil || strings.HasPrefix(tt.name, "nil") {
				c = tt.client
			}
			a, err := New(c, cfg, zerolog.Nop(), tt.opts...)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.want == "" && a == nil:
				t.Fatal("New returned no Applier")
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("New error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
