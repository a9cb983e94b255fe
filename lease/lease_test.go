package lease

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/clock"
	"github.com/projectwatcher/watcher/internal/clocktest"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func newTestLease(t *testing.T, coll *mongo.Collection, owner string, ttl time.Duration, clk clock.Clock) *Lease {
	t.Helper()
	l, err := New(Options{Collection: coll, Name: "stream", Owner: owner, TTL: ttl, Clock: clk,
		Logger: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func leaseColl(t *testing.T) (*mongo.Collection, *mongotest.Server) {
	t.Helper()
	projects, srv := watchertest.Projects(t)
	return projects.Database().Collection("leases"), srv
}

// leaseStep is one operation of a lease scenario.
type leaseStep struct {
	who       string // a | b
	op        string // take | renew | release | advance
	advance   time.Duration
	wantOK    bool
	wantEpoch int64 // take: epoch expected when ok
}

// leaseTTL is the TTL of both instances' leases in the scenarios.
const leaseTTL = 10 * time.Second

// leaseScenarios are the sequences TestLeaseTakeRenewRelease runs.
var leaseScenarios = []struct {
	name  string
	steps []leaseStep
}{
	{
		name: "first take, second refused, renew keeps it",
		steps: []leaseStep{
			{who: "a", op: "take", wantOK: true, wantEpoch: 1},
			{who: "b", op: "take", wantOK: false},
			{op: "advance", advance: 9 * time.Second},
			{who: "a", op: "renew", wantOK: true},
			{op: "advance", advance: 9 * time.Second},
			{who: "b", op: "take", wantOK: false},
		},
	},
	{
		name: "expired lease is taken with a new epoch; the old holder cannot renew",
		steps: []leaseStep{
			{who: "a", op: "take", wantOK: true, wantEpoch: 1},
			{op: "advance", advance: leaseTTL + time.Millisecond},
			{who: "b", op: "take", wantOK: true, wantEpoch: 2},
			{who: "a", op: "renew", wantOK: false},
			{who: "a", op: "take", wantOK: false},
			{who: "b", op: "renew", wantOK: true},
		},
	},
	{
		name: "release frees the lease at once",
		steps: []leaseStep{
			{who: "a", op: "take", wantOK: true, wantEpoch: 1},
			{who: "a", op: "release", wantOK: true},
			{who: "b", op: "take", wantOK: true, wantEpoch: 2},
			{who: "a", op: "release", wantOK: true}, // not the holder: no effect
			{who: "a", op: "take", wantOK: false},
		},
	},
}

// TestLeaseTakeRenewRelease drives two instances through a sequence of lease
// operations with a controlled clock.
func TestLeaseTakeRenewRelease(t *testing.T) {
	for _, sc := range leaseScenarios {
		t.Run(sc.name, func(t *testing.T) {
			ctx := watchertest.Context(t, 30*time.Second)
			coll, _ := leaseColl(t)
			clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			leases := map[string]*Lease{
				"a": newTestLease(t, coll, "a", leaseTTL, clk),
				"b": newTestLease(t, coll, "b", leaseTTL, clk),
			}
			epochs := map[string]int64{}
			for i, s := range sc.steps {
				runLeaseStep(ctx, t, i, s, leases[s.who], clk, epochs)
			}
		})
	}
}

// runLeaseStep runs step i, s, on lease l (nil for advance) and checks its
// outcome; epochs holds each instance's last epoch taken.
func runLeaseStep(ctx context.Context, t *testing.T, i int, s leaseStep, l *Lease, clk *clocktest.Clock, epochs map[string]int64) {
	t.Helper()
	switch s.op {
	case "advance":
		clk.Add(s.advance)
	case "take":
		epoch, ok, held, err := l.TryAcquire(ctx)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if ok != s.wantOK {
			t.Fatalf("step %d: %s take ok %v (held %+v), want %v", i, s.who, ok, held, s.wantOK)
		}
		if ok {
			if epoch != s.wantEpoch {
				t.Fatalf("step %d: epoch %d, want %d", i, epoch, s.wantEpoch)
			}
			epochs[s.who] = epoch
		} else if held.Owner == s.who || held.Owner == "" {
			t.Fatalf("step %d: refused but holder is %q", i, held.Owner)
		}
	case "renew":
		ok, err := l.renew(ctx, epochs[s.who])
		if err != nil || ok != s.wantOK {
			t.Fatalf("step %d: %s renew ok %v err %v, want %v", i, s.who, ok, err, s.wantOK)
		}
	case "release":
		if err := l.release(ctx, epochs[s.who]); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

// TestLeaseStoredShape checks the documented lease document.
func TestLeaseStoredShape(t *testing.T) {
	ctx := watchertest.Context(t, 30*time.Second)
	coll, _ := leaseColl(t)
	now := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	l := newTestLease(t, coll, "me", 15*time.Second, clocktest.New(now))
	if _, ok, _, err := l.TryAcquire(ctx); err != nil || !ok {
		t.Fatalf("take: ok %v err %v", ok, err)
	}
	var doc bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "stream"}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["owner"] != "me" || doc["epoch"] != int64(1) {
		t.Errorf("lease doc %v: want owner me, epoch 1", doc)
	}
	exp, ok := doc["expiresAt"].(bson.DateTime)
	if !ok || !exp.Time().Equal(now.Add(15*time.Second)) {
		t.Errorf("expiresAt %v, want %v", doc["expiresAt"], now.Add(15*time.Second))
	}
	info, err := l.Info(ctx)
	if err != nil || info.Owner != "me" || info.Epoch != 1 {
		t.Errorf("Info = %+v, %v", info, err)
	}
}

// TestTermLostWhenRenewalsFail: a holder whose renewals keep failing loses
// the lease on its own, before the expiry it last wrote.
func TestTermLostWhenRenewalsFail(t *testing.T) {
	ctx := watchertest.Context(t, 30*time.Second)
	coll, srv := leaseColl(t)
	mongotest.RequireFaults(t, srv)
	const ttl = 600 * time.Millisecond
	l := newTestLease(t, coll, "a", ttl, nil)
	term, err := l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer term.Release(context.Background())
	info, err := l.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.FailCommand("findAndModify", 1000, 2) // BadValue: not retried by the driver
	select {
	case <-term.Lost():
	case <-time.After(20 * time.Second):
		t.Fatal("the term was not lost while every renewal failed")
	}
	lostAt := time.Now()
	if !errors.Is(term.Err(), ErrLost) {
		t.Errorf("Err = %v, want ErrLost", term.Err())
	}
	if term.Context().Err() == nil {
		t.Error("the term's context is not done after the loss")
	}
	// The holder stops before any other instance may take the lease (the
	// first renewal may have succeeded before the faults: compare with the
	// newest stored expiry).
	latest, err := l.Info(context.Background())
	if err == nil && latest.ExpiresAt.After(info.ExpiresAt) {
		info = latest
	}
	if !lostAt.Before(info.ExpiresAt) {
		t.Errorf("lost at %v, not before the stored expiry %v", lostAt, info.ExpiresAt)
	}
}

// TestTermLostWhenTakenOver: an instance whose clock says the lease expired
// takes it; the former holder's next renewal finds it gone.
func TestTermLostWhenTakenOver(t *testing.T) {
	ctx := watchertest.Context(t, 30*time.Second)
	coll, _ := leaseColl(t)
	const ttl = 900 * time.Millisecond
	a := newTestLease(t, coll, "a", ttl, nil)
	term, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer term.Release(context.Background())
	b := newTestLease(t, coll, "b", ttl, clocktest.Skewed{Offset: time.Hour})
	epoch, ok, _, err := b.TryAcquire(ctx)
	if err != nil || !ok || epoch != term.Epoch()+1 {
		t.Fatalf("b take: epoch %d ok %v err %v, want epoch %d", epoch, ok, err, term.Epoch()+1)
	}
	select {
	case <-term.Lost():
	case <-time.After(20 * time.Second):
		t.Fatal("the former holder did not notice the takeover")
	}
	if !errors.Is(term.Err(), ErrLost) {
		t.Errorf("Err = %v", term.Err())
	}
	if info, _ := a.Info(ctx); info.Owner != "b" {
		t.Errorf("holder after the loss = %q, want b (a must not touch b's lease)", info.Owner)
	}
}

// TestLeadHandsOverOnCleanStop: two instances lead in turn; a clean stop of
// the leader releases the lease and the standby leads next with a larger
// epoch. Lose() steps a leader down to standby.
func TestLeadHandsOverOnCleanStop(t *testing.T) {
	ctx := watchertest.Context(t, 30*time.Second)
	coll, _ := leaseColl(t)
	const ttl = time.Hour // nothing expires: every handover is a release or a Lose
	type rec struct {
		mu    sync.Mutex
		roles []string
	}
	run := func(owner string, r *rec, terms chan<- *Term) (stop func() error) {
		l := newTestLease(t, coll, owner, ttl, nil)
		l.poll = 20 * time.Millisecond
		l.stepDownWait = 300 * time.Millisecond
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- l.Lead(cctx, func(role Role, epoch int64) {
				r.mu.Lock()
				r.roles = append(r.roles, string(role))
				r.mu.Unlock()
			}, func(term *Term) error {
				terms <- term
				<-term.Context().Done()
				return nil
			})
		}()
		return func() error { cancel(); return <-done }
	}
	var ra, rb rec
	termsA, termsB := make(chan *Term, 4), make(chan *Term, 4)
	stopA := run("a", &ra, termsA)
	first := <-termsA
	stopB := run("b", &rb, termsB)

	// A loses (as after a refused fenced write): it steps down, B leads.
	first.Lose(errors.New("test"))
	var second *Term
	select {
	case second = <-termsB:
	case <-time.After(20 * time.Second):
		t.Fatal("b did not take over after a's loss")
	}
	if second.Epoch() <= first.Epoch() {
		t.Errorf("epochs %d then %d: want increasing", first.Epoch(), second.Epoch())
	}
	// B stops cleanly: A (back to standby) leads next.
	if err := stopB(); err != nil {
		t.Errorf("b: %v", err)
	}
	var third *Term
	select {
	case third = <-termsA:
	case <-time.After(20 * time.Second):
		t.Fatal("a did not take over after b released the lease")
	}
	if third.Epoch() <= second.Epoch() {
		t.Errorf("epochs %d then %d: want increasing", second.Epoch(), third.Epoch())
	}
	if err := stopA(); err != nil {
		t.Errorf("a: %v", err)
	}
	want := map[string][]string{
		"a": {"standby", "leader", "standby", "leader", "standby"},
		"b": {"standby", "leader", "standby"},
	}
	for name, r := range map[string]*rec{"a": &ra, "b": &rb} {
		r.mu.Lock()
		if len(r.roles) != len(want[name]) {
			t.Errorf("%s roles %v, want %v", name, r.roles, want[name])
		} else {
			for i := range r.roles {
				if r.roles[i] != want[name][i] {
					t.Errorf("%s roles %v, want %v", name, r.roles, want[name])
					break
				}
			}
		}
		r.mu.Unlock()
	}
}

func TestNewRejects(t *testing.T) {
	coll, _ := leaseColl(t)
	tests := []struct {
		name string
		opts Options
	}{
		{"no collection", Options{Name: "n", Owner: "o", TTL: time.Second}},
		{"no name", Options{Collection: coll, Owner: "o", TTL: time.Second}},
		{"no owner", Options{Collection: coll, Name: "n", TTL: time.Second}},
		{"tiny ttl", Options{Collection: coll, Name: "n", Owner: "o", TTL: time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}
