package watcher

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/clock"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// watermark is the low watermark of the stream: the newest resume token
// whose change AND every earlier change is applied (saving it is the
// saver's job). Every change read
// from the stream is tracked (Track) in stream order and completed (Done) by
// whoever finishes it, in any order. Changes that derive to nothing complete
// at once. A failed change never completes: the watermark stays before it
// for good (a later dead-letter step can turn a failure into a completion by
// calling Done(seq, nil) once the event is safely parked).
//
// Bookkeeping is a ring of in-flight changes indexed by sequence number:
// Track, Done and the watermark advance are O(1) amortized, and saving reads
// one value, so checkpointing costs nothing per event.
type watermark struct {
	now func() time.Time

	mu      sync.Mutex
	ring    []inflight       // capacity is a power of two
	head    int              // index of the oldest in-flight change
	count   int              // changes in flight
	next    uint64           // sequence number of the next tracked change
	mark    event.Checkpoint // the watermark; mark.Token is nil until there is one
	failErr error            // the first failure
	// progress is when work last progressed: a tracked change completed,
	// or changes became pending after none was (for a stall watchdog).
	progress time.Time
	failed   chan struct{}
}

type inflight struct {
	token       bson.Raw
	clusterTime bson.Timestamp
	state       uint8
}

const (
	stateInFlight uint8 = iota
	stateDone
	stateFailed
)

// errUnknownSeq reports a completion of a change that is not in flight.
var errUnknownSeq = errors.New("watermark: completion of a change that is not in flight")

// newWatermark returns an empty watermark on clock c (nil: the wall
// clock).
func newWatermark(c clock.Clock) *watermark {
	return &watermark{now: clock.Or(c).Now, ring: make([]inflight, 64), failed: make(chan struct{})}
}

// Restore starts from a loaded checkpoint: it is the watermark until the
// stream moves on.
func (c *watermark) Restore(cp event.Checkpoint) {
	c.mu.Lock()
	c.mark = cp
	c.mu.Unlock()
}

// Track registers a change read from the stream, in stream order, and
// returns its sequence number.
func (c *watermark) Track(token bson.Raw, clusterTime bson.Timestamp) uint64 {
	token = bytes.Clone(token) // not a slice of the whole change document
	c.mu.Lock()
	if c.count == 0 {
		c.progress = c.now()
	}
	if c.count == len(c.ring) {
		c.grow()
	}
	c.ring[(c.head+c.count)&(len(c.ring)-1)] = inflight{token: token, clusterTime: clusterTime}
	c.count++
	seq := c.next
	c.next++
	c.mu.Unlock()
	return seq
}

func (c *watermark) grow() {
	ring := make([]inflight, 2*len(c.ring))
	for i := 0; i < c.count; i++ {
		ring[i] = c.ring[(c.head+i)&(len(c.ring)-1)]
	}
	c.ring = ring
	c.head = 0
}

// Done completes the change seq. err != nil marks it failed: the watermark
// never passes it, and Failed is closed (on the first failure).
func (c *watermark) Done(seq uint64, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	first := c.next - uint64(c.count)
	if seq < first || seq >= c.next {
		return fmt.Errorf("%w: seq %d (in flight: %d..%d)", errUnknownSeq, seq, first, c.next)
	}
	slot := &c.ring[(c.head+int(seq-first))&(len(c.ring)-1)]
	if slot.state != stateInFlight {
		return fmt.Errorf("%w: seq %d completed twice", errUnknownSeq, seq)
	}
	c.progress = c.now()
	if err != nil {
		slot.state = stateFailed
		if c.failErr == nil {
			c.failErr = err
			close(c.failed)
		}
		return nil
	}
	slot.state = stateDone
	for c.count > 0 && c.ring[c.head].state == stateDone {
		e := &c.ring[c.head]
		c.mark = event.Checkpoint{Token: e.token, ClusterTime: e.clusterTime}
		*e = inflight{}
		c.head = (c.head + 1) & (len(c.ring) - 1)
		c.count--
	}
	return nil
}

// Pass tracks and completes at once a change that needs no work (it derived
// to nothing).
//
// Consecutive completed changes take one slot: a change passed right
// behind a completed one replaces it (the watermark would pass both at
// once), so one stuck event followed by any number of changes that derive
// to nothing holds two slots, not one per change.
func (c *watermark) Pass(token bson.Raw, clusterTime bson.Timestamp) {
	token = bytes.Clone(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count == 0 {
		c.next++
		c.mark = event.Checkpoint{Token: token, ClusterTime: clusterTime}
		return
	}
	if last := &c.ring[(c.head+c.count-1)&(len(c.ring)-1)]; last.state == stateDone {
		last.token, last.clusterTime = token, clusterTime
		return
	}
	if c.count == len(c.ring) {
		c.grow()
	}
	c.ring[(c.head+c.count)&(len(c.ring)-1)] = inflight{token: token, clusterTime: clusterTime, state: stateDone}
	c.count++
	c.next++
}

// Idle offers the stream's post-batch resume token (read when the stream
// had nothing new). It becomes the watermark only when nothing is in flight,
// so a quiet collection keeps its stored token inside the oplog window.
// It reports whether the token was adopted.
func (c *watermark) Idle(token bson.Raw) bool {
	if len(token) == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count != 0 || bytes.Equal(token, c.mark.Token) {
		return false
	}
	ct, ok := tokenClusterTime(token)
	if !ok || ct.Before(c.mark.ClusterTime) {
		ct = c.mark.ClusterTime
	}
	c.mark = event.Checkpoint{Token: token, ClusterTime: ct}
	return true
}

// Position returns the current low watermark; ok is false when there is
// none yet (nothing restored, nothing applied).
func (c *watermark) Position() (cp event.Checkpoint, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mark, len(c.mark.Token) > 0
}

// InFlight returns how many tracked changes are not yet complete (failed
// ones included).
func (c *watermark) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// Progress returns how many tracked changes are in flight and when work
// last progressed (a change completed, or changes became pending).
func (c *watermark) Progress() (inFlight int, last time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count, c.progress
}

// Lag is how long the oldest change that is not complete has waited since
// MongoDB wrote it (its cluster time); 0 when none is pending.
func (c *watermark) Lag() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count == 0 {
		return 0
	}
	ct := c.ring[c.head].clusterTime
	if ct.T == 0 {
		return 0
	}
	return max(c.now().Sub(time.Unix(int64(ct.T), 0)), 0)
}

// Failed is closed on the first failed change.
func (c *watermark) Failed() <-chan struct{} { return c.failed }

// Err returns the first failure, nil when none.
func (c *watermark) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failErr
}

// tokenClusterTime reads the cluster time a MongoDB resume token starts with:
// {_data: "<hex>"} whose first byte is 0x82 (a Timestamp in KeyString form)
// followed by the timestamp's 8 bytes, big endian (seconds, increment).
func tokenClusterTime(token bson.Raw) (bson.Timestamp, bool) {
	v, err := token.LookupErr("_data")
	if err != nil {
		return bson.Timestamp{}, false
	}
	s, ok := v.StringValueOK()
	if !ok || len(s) < 18 {
		return bson.Timestamp{}, false
	}
	var b [9]byte
	if _, err := hex.Decode(b[:], []byte(s[:18])); err != nil || b[0] != 0x82 {
		return bson.Timestamp{}, false
	}
	t := uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
	i := uint32(b[5])<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])
	return bson.Timestamp{T: t, I: i}, true
}

// tokenString renders a token for the logs: its _data string when it has
// one, else its extended JSON.
func tokenString(token bson.Raw) string {
	if v, err := token.LookupErr("_data"); err == nil {
		if s, ok := v.StringValueOK(); ok {
			return s
		}
	}
	return token.String()
}
