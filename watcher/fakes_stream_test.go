package watcher

// The fakes of the stream side: a scripted change source, its changes, a
// resolver, token stores, and the fixture that runs a Watcher on them (the
// appliers, observer and clocks are in fakes_test.go).

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// srcStep is one answer of scriptSource.Next.
type srcStep struct {
	ch     *event.Change // a change (ok = true)
	idle   bson.Raw      // nothing new; the post-batch token becomes this
	err    error
	before func() // runs before the step is answered (may block)
}

// scriptSource plays a script of Next answers; once it is played, it calls
// end (if set) and then behaves like a quiet stream until ctx ends.
type scriptSource struct {
	start   bson.Raw // the post-batch token of a stream opened without a token
	openErr error
	script  []srcStep
	end     func()

	mu        sync.Mutex
	opened    []bson.Raw
	openCalls int
	closed    bool
	pos       int
	resume    bson.Raw
	ended     bool
}

func (s *scriptSource) Open(ctx context.Context, token bson.Raw) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.openCalls++
	s.opened = append(s.opened, token)
	if token == nil && s.start != nil && s.openErr == nil {
		s.resume = s.start
	}
	return s.openErr
}

func (s *scriptSource) Next(ctx context.Context) (event.Change, bool, error) {
	s.mu.Lock()
	if s.pos < len(s.script) {
		st := s.script[s.pos]
		s.pos++
		s.mu.Unlock()
		if st.before != nil {
			st.before()
		}
		switch {
		case st.err != nil:
			return event.Change{}, false, st.err
		case st.ch != nil:
			s.mu.Lock()
			s.resume = st.ch.Token
			s.mu.Unlock()
			return *st.ch, true, nil
		default:
			s.mu.Lock()
			s.resume = st.idle
			s.mu.Unlock()
			return event.Change{}, false, nil
		}
	}
	end := !s.ended
	s.ended = true
	s.mu.Unlock()
	if end && s.end != nil {
		s.end()
	}
	select {
	case <-ctx.Done():
		return event.Change{}, false, ctx.Err()
	case <-time.After(time.Millisecond):
		return event.Change{}, false, nil
	}
}

func (s *scriptSource) ResumeToken() bson.Raw {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resume
}

func (s *scriptSource) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *scriptSource) nextCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos
}

// stubResolver sets every lookup path to "resolved:<path>", or fails.
type stubResolver struct {
	err   error
	calls int
	// check, when set, is Check's answer (it may set ev.CreatedBy).
	check func(ev *event.Event) error
}

func (r *stubResolver) Check(_ context.Context, ev *event.Event) error {
	if r.check != nil {
		return r.check(ev)
	}
	return nil
}

func (r *stubResolver) Resolve(ctx context.Context, ev *event.Event) error {
	r.calls++
	if r.err != nil {
		return r.err
	}
	if ev.Set == nil {
		ev.Set = map[string]any{}
	}
	for _, p := range ev.Lookup {
		ev.Set[p] = "resolved:" + p
	}
	return nil
}

func tokName(t bson.Raw) string {
	if len(t) == 0 {
		return ""
	}
	return tokenString(t)
}

// memTokenStore is a TokenStore in memory that records every save.
type memTokenStore struct {
	mu      sync.Mutex
	cp      event.Checkpoint
	has     bool
	saves   []event.Checkpoint
	loadErr error
	saveErr error
}

func (m *memTokenStore) Load(context.Context) (event.Checkpoint, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cp, m.has, m.loadErr
}

func (m *memTokenStore) Save(_ context.Context, cp event.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	m.cp, m.has = cp, true
	m.saves = append(m.saves, cp)
	return nil
}

func (m *memTokenStore) saved() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, cp := range m.saves {
		out = append(out, tokName(cp.Token))
	}
	return out
}

// nopApplier applies nothing (the benchmarks measure the watcher's own cost).
type nopApplier struct{}

// nopTokenStore stores nothing.
type nopTokenStore struct{}

func (nopApplier) Apply(context.Context, event.Event) (event.Report, error) {
	return event.Report{}, nil
}

func (nopTokenStore) Load(context.Context) (event.Checkpoint, bool, error) {
	return event.Checkpoint{}, false, nil
}

func (nopTokenStore) Save(context.Context, event.Checkpoint) error { return nil }

type loadOnlyStore struct {
	cp    event.Checkpoint
	saves int
}

func (s *loadOnlyStore) Load(context.Context) (event.Checkpoint, bool, error) { return s.cp, true, nil }

func (s *loadOnlyStore) Save(context.Context, event.Checkpoint) error {
	s.saves++
	return nil
}

func chDelete(token string, id any) srcStep {
	return srcStep{ch: &event.Change{Token: watchertest.Token(token), Op: "delete", DocumentKey: watchertest.DocKey(id), ClusterTime: bson.Timestamp{T: 100}}}
}

func chUpdate(token, id string, updated bson.D) srcStep {
	return srcStep{ch: &event.Change{Token: watchertest.Token(token), Op: "update", DocumentKey: watchertest.DocKey(id), UpdatedFields: watchertest.Raw(nil, updated), ClusterTime: bson.Timestamp{T: 100}}}
}

func chOp(token, op string) srcStep {
	return srcStep{ch: &event.Change{Token: watchertest.Token(token), Op: op, DocumentKey: watchertest.DocKey("x"), ClusterTime: bson.Timestamp{T: 100},
		Namespace: event.Namespace{DB: "collab", Coll: "projects"}}}
}

type runFixture struct {
	src   *scriptSource
	res   *stubResolver
	ap    *recApplier
	store *memTokenStore
	obs   *recObserver
	logs  *watchertest.LogBuffer
	w     *Watcher
}

func newRunFixture(t *testing.T, src *scriptSource, mod func(*Options)) *runFixture {
	t.Helper()
	f := &runFixture{src: src, res: &stubResolver{}, ap: &recApplier{}, store: &memTokenStore{}, obs: &recObserver{}, logs: &watchertest.LogBuffer{}}
	opts := Options{
		Source: src, Resolver: f.res, Applier: f.ap, Store: f.store, Observer: f.obs,
		Fields: []string{"name"}, Workers: 3, QueueSize: 2,
		CheckpointInterval: 5 * time.Millisecond, StartAt: "now",
		Logger: zerolog.New(f.logs).Level(zerolog.DebugLevel),
	}
	if mod != nil {
		mod(&opts)
	}
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.w = w
	return f
}

// run runs the watcher; the source's end cancels the context (a SIGTERM
// once the script is played).
func (f *runFixture) run(t *testing.T) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if f.src.end == nil {
		f.src.end = cancel
	}
	done := make(chan error, 1)
	go func() { done <- f.w.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func (f *runFixture) savedToken() string {
	f.store.mu.Lock()
	defer f.store.mu.Unlock()
	return tokName(f.store.cp.Token)
}
