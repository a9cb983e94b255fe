package watcher

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// wmStep is one step of a watermark case.
type wmStep struct {
	op   string // track, done, fail, pass, idle, restore
	name string // token of track/pass/idle/restore; tracked name for done/fail
	want string // watermark token after the step ("" none)
}

var watermarkCases = []struct {
	name  string
	steps []wmStep
}{
	{"in order", []wmStep{
		{"track", "a", ""}, {"track", "b", ""},
		{"done", "a", "a"}, {"done", "b", "b"},
	}},
	{"out of order across workers", []wmStep{
		{"track", "a", ""}, {"track", "b", ""}, {"track", "c", ""},
		{"done", "c", ""}, {"done", "b", ""}, {"done", "a", "c"},
	}},
	{"partial out of order", []wmStep{
		{"track", "a", ""}, {"track", "b", ""}, {"track", "c", ""}, {"track", "d", ""},
		{"done", "b", ""}, {"done", "a", "b"}, {"done", "d", "b"}, {"done", "c", "d"},
	}},
	{"failure never advances", []wmStep{
		{"track", "a", ""}, {"track", "b", ""}, {"track", "c", ""},
		{"done", "a", "a"}, {"fail", "b", "a"}, {"done", "c", "a"},
		{"pass", "d", "a"}, {"idle", "x", "a"},
	}},
	{"first change fails", []wmStep{
		{"restore", "r", "r"}, {"track", "a", "r"}, {"fail", "a", "r"}, {"idle", "x", "r"},
	}},
	{"derived to nothing completes at once", []wmStep{
		{"pass", "a", "a"}, {"pass", "b", "b"},
	}},
	{"nothing-event behind in-flight waits", []wmStep{
		{"track", "a", ""}, {"pass", "b", ""}, {"pass", "c", ""}, {"done", "a", "c"},
	}},
	{"idle adopted only when nothing in flight", []wmStep{
		{"idle", "x", "x"}, {"track", "a", "x"}, {"idle", "y", "x"},
		{"done", "a", "a"}, {"idle", "y", "y"}, {"idle", "", "y"},
	}},
	{"restore then progress", []wmStep{
		{"restore", "r", "r"}, {"track", "a", "r"}, {"done", "a", "a"},
	}},
}

func TestWatermarkAdvances(t *testing.T) {
	for _, tt := range watermarkCases {
		t.Run(tt.name, func(t *testing.T) {
			c := newWatermark(nil)
			seqs := map[string]uint64{}
			for i, s := range tt.steps {
				applyStep(t, c, seqs, i, s)
				cp, ok := c.Position()
				if got := tokName(cp.Token); got != s.want || ok != (s.want != "") {
					t.Fatalf("step %d (%s %s): watermark %q (ok %v), want %q", i, s.op, s.name, got, ok, s.want)
				}
			}
		})
	}
}

// applyStep carries out step i on c; seqs maps tracked names to their
// sequence numbers.
func applyStep(t *testing.T, c *watermark, seqs map[string]uint64, i int, s wmStep) {
	t.Helper()
	switch s.op {
	case "track":
		seqs[s.name] = c.Track(watchertest.Token(s.name), bson.Timestamp{T: uint32(i + 1)})
	case "done", "fail":
		seq, ok := seqs[s.name]
		if !ok {
			t.Fatalf("step %d: %q was not tracked", i, s.name)
		}
		var err error
		if s.op == "fail" {
			err = errors.New("boom")
		}
		if derr := c.Done(seq, err); derr != nil {
			t.Fatalf("step %d: Done: %v", i, derr)
		}
	case "pass":
		c.Pass(watchertest.Token(s.name), bson.Timestamp{T: uint32(i + 1)})
	case "idle":
		var tk bson.Raw
		if s.name != "" {
			tk = watchertest.Token(s.name)
		}
		c.Idle(tk)
	case "restore":
		c.Restore(event.Checkpoint{Token: watchertest.Token(s.name)})
	default:
		t.Fatalf("bad op %q", s.op)
	}
}

func TestWatermarkFailureSignals(t *testing.T) {
	c := newWatermark(nil)
	a := c.Track(watchertest.Token("a"), bson.Timestamp{})
	b := c.Track(watchertest.Token("b"), bson.Timestamp{})
	select {
	case <-c.Failed():
		t.Fatal("Failed closed before any failure")
	default:
	}
	boom := errors.New("boom")
	if err := c.Done(b, boom); err != nil {
		t.Fatal(err)
	}
	if err := c.Done(a, errors.New("second")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Failed():
	default:
		t.Fatal("Failed not closed after a failure")
	}
	if !errors.Is(c.Err(), boom) {
		t.Fatalf("Err() = %v, want the first failure", c.Err())
	}
	if got := c.InFlight(); got != 2 {
		t.Fatalf("InFlight = %d, want 2 (failed changes stay)", got)
	}
}

func TestWatermarkDoneRejectsUnknown(t *testing.T) {
	c := newWatermark(nil)
	a := c.Track(watchertest.Token("a"), bson.Timestamp{})
	b := c.Track(watchertest.Token("b"), bson.Timestamp{})
	if err := c.Done(b, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		seq  uint64
	}{
		{"twice", b},
		{"future", b + 1},
	}
	for _, tt := range tests {
		if err := c.Done(tt.seq, nil); !errors.Is(err, errUnknownSeq) {
			t.Errorf("%s: Done(%d) = %v, want errUnknownSeq", tt.name, tt.seq, err)
		}
	}
	if err := c.Done(a, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Done(a, nil); !errors.Is(err, errUnknownSeq) {
		t.Errorf("completed and released: Done = %v, want errUnknownSeq", err)
	}
	if cp, _ := c.Position(); tokName(cp.Token) != "b" {
		t.Fatalf("watermark %q, want b", tokName(cp.Token))
	}
}

func TestWatermarkRingGrowsAndWraps(t *testing.T) {
	c := newWatermark(nil)
	// Wrap the ring first so growth has to unroll a split ring.
	for i := 0; i < 50; i++ {
		if err := c.Done(c.Track(watchertest.Token(fmt.Sprint("w", i)), bson.Timestamp{}), nil); err != nil {
			t.Fatal(err)
		}
	}
	const n = 1000
	seqs := make([]uint64, n)
	for i := range seqs {
		seqs[i] = c.Track(watchertest.Token(fmt.Sprint("t", i)), bson.Timestamp{T: uint32(i)})
	}
	for i := n - 1; i >= 1; i-- {
		if err := c.Done(seqs[i], nil); err != nil {
			t.Fatal(err)
		}
	}
	if cp, _ := c.Position(); tokName(cp.Token) != "w49" {
		t.Fatalf("watermark %q before the first completes, want w49", tokName(cp.Token))
	}
	if err := c.Done(seqs[0], nil); err != nil {
		t.Fatal(err)
	}
	cp, _ := c.Position()
	if tokName(cp.Token) != fmt.Sprint("t", n-1) || cp.ClusterTime.T != n-1 {
		t.Fatalf("watermark %q %v, want t%d", tokName(cp.Token), cp.ClusterTime, n-1)
	}
	if c.InFlight() != 0 {
		t.Fatalf("InFlight = %d, want 0", c.InFlight())
	}
}

func TestWatermarkConcurrentCompletion(t *testing.T) {
	c := newWatermark(nil)
	const n, workers = 2000, 4
	seqs := make([]uint64, n)
	for i := range seqs {
		seqs[i] = c.Track(watchertest.Token(fmt.Sprint("t", i)), bson.Timestamp{})
	}
	rand.Shuffle(n, func(i, j int) { seqs[i], seqs[j] = seqs[j], seqs[i] })
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(part []uint64) {
			defer wg.Done()
			for _, s := range part {
				if err := c.Done(s, nil); err != nil {
					t.Error(err)
				}
			}
		}(seqs[w*n/workers : (w+1)*n/workers])
	}
	wg.Wait()
	if cp, _ := c.Position(); tokName(cp.Token) != fmt.Sprint("t", n-1) {
		t.Fatalf("watermark %q, want t%d", tokName(cp.Token), n-1)
	}
}

func TestSaver(t *testing.T) {
	st := &memTokenStore{}
	obs := &recObserver{}
	c := newWatermark(nil)
	sv := newSaver(st, c, obs, zerolog.Nop())
	ctx := context.Background()
	save := func(want bool) {
		t.Helper()
		wrote, err := sv.save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if wrote != want {
			t.Fatalf("Save wrote=%v, want %v", wrote, want)
		}
	}
	save(false) // nothing yet
	c.Restore(event.Checkpoint{Token: watchertest.Token("r")})
	sv.restored(watchertest.Token("r"))
	save(false) // the loaded token is already stored
	a := c.Track(watchertest.Token("a"), bson.Timestamp{T: 7, I: 2})
	save(false) // unchanged while a is in flight
	if err := c.Done(a, nil); err != nil {
		t.Fatal(err)
	}
	save(true)
	save(false) // unchanged token skipped
	c.Idle(watchertest.Token("x"))
	save(true)

	if got, want := fmt.Sprint(st.saved()), "[a x]"; got != want {
		t.Fatalf("saved %s, want %s", got, want)
	}
	if st.saves[0].ClusterTime != (bson.Timestamp{T: 7, I: 2}) || st.saves[0].SavedAt.IsZero() {
		t.Fatalf("saved checkpoint %+v: want clusterTime {7 2} and SavedAt set", st.saves[0])
	}
	if st.saves[1].ClusterTime != (bson.Timestamp{T: 7, I: 2}) {
		t.Fatalf("idle token without a readable time keeps the last cluster time, got %v", st.saves[1].ClusterTime)
	}
	if obs.count("saved") != 2 {
		t.Fatalf("CheckpointSaved called %d times, want 2", obs.count("saved"))
	}

	st.saveErr = errors.New("mongo down")
	b := c.Track(watchertest.Token("b"), bson.Timestamp{})
	if err := c.Done(b, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := sv.save(ctx); !errors.Is(err, st.saveErr) {
		t.Fatalf("Save = %v, want the store's error", err)
	}
	st.saveErr = nil
	save(true) // a failed save is retried, not skipped as unchanged
	if got, want := fmt.Sprint(st.saved()), "[a x b]"; got != want {
		t.Fatalf("saved %s, want %s", got, want)
	}
}

func TestSaverEvery(t *testing.T) {
	st := &memTokenStore{}
	c := newWatermark(nil)
	sv := newSaver(st, c, NopObserver{}, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sv.every(ctx, 5*time.Millisecond)
	}()
	c.Pass(watchertest.Token("a"), bson.Timestamp{})
	deadline := time.Now().Add(10 * time.Second)
	for len(st.saved()) == 0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
	if got := st.saved(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("periodic saves %v, want exactly [a] (unchanged tokens skipped)", got)
	}
}

func TestTokenClusterTime(t *testing.T) {
	tests := []struct {
		name  string
		token bson.Raw
		want  bson.Timestamp
		ok    bool
	}{
		{"keystring timestamp", watchertest.Token("8263A1B2C3000000052B022C0100296E5A1004"), bson.Timestamp{T: 0x63A1B2C3, I: 5}, true},
		{"too short", watchertest.Token("8263A1"), bson.Timestamp{}, false},
		{"not a timestamp", watchertest.Token("2B63A1B2C3000000052B02"), bson.Timestamp{}, false},
		{"not hex", watchertest.Token("82zzA1B2C3000000052B02"), bson.Timestamp{}, false},
		{"no _data", func() bson.Raw { b, _ := bson.Marshal(bson.D{{Key: "x", Value: 1}}); return b }(), bson.Timestamp{}, false},
	}
	for _, tt := range tests {
		got, ok := tokenClusterTime(tt.token)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: got %v %v, want %v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestWatermarkIdleReadsClusterTime(t *testing.T) {
	c := newWatermark(nil)
	c.Pass(watchertest.Token("a"), bson.Timestamp{T: 10})
	c.Idle(watchertest.Token("8263A1B2C3000000052B02"))
	if cp, _ := c.Position(); cp.ClusterTime != (bson.Timestamp{T: 0x63A1B2C3, I: 5}) {
		t.Fatalf("cluster time %v, want the token's", cp.ClusterTime)
	}
}

// TestWatermarkMemoryStaysFlat: one stuck event, then 1,000,000 changes
// that derive to nothing (updates of fields nobody copies), each token a
// slice of its whole change document as the source hands it over: the
// watermark keeps a constant number of slots and none of the documents.
func TestWatermarkMemoryStaysFlat(t *testing.T) {
	c := newWatermark(nil)
	stuck := c.Track(watchertest.Token("stuck"), bson.Timestamp{T: 1})
	doc := make([]byte, 256) // a change document; its token is a slice of it
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	const passes = 1_000_000
	base := watchertest.Token("00000000") // {_data: "<8 digits>"}: the digits end 2 bytes before its end
	for i := range passes {
		d := append([]byte(nil), doc...)
		copy(d, base)
		for k, n := len(base)-3, i; k >= len(base)-10; k, n = k-1, n/10 {
			d[k] = byte('0' + n%10)
		}
		c.Pass(bson.Raw(d[:len(base)]), bson.Timestamp{T: uint32(i + 2)})
	}
	after := heap()
	if c.InFlight() != 2 || len(c.ring) > 64 {
		t.Fatalf("in flight %d, ring %d slots after %d passes: want 2 (the stuck event and one for all the passes)", c.InFlight(), len(c.ring), passes)
	}
	if grown := int64(after) - int64(before); grown > 1<<20 {
		t.Fatalf("the heap grew by %d bytes over %d passes: the watermark holds the changes", grown, passes)
	}
	if err := c.Done(stuck, nil); err != nil {
		t.Fatal(err)
	}
	if cp, _ := c.Position(); tokName(cp.Token) != fmt.Sprintf("%08d", passes-1) {
		t.Fatalf("watermark %q, want the last pass", tokName(cp.Token))
	}
}
