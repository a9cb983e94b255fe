package mongotest

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/internal/mongotest/mquery"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// changeEvent is one entry of the oplog-like history.
type changeEvent struct {
	ts   bson.Timestamp
	wall time.Time
	// insert update replace delete drop rename dropDatabase, and the
	// expanded events create createIndexes dropIndexes modify
	op   string
	db   string
	coll string
	uuid bson.Binary // the collection's (collectionUUID); none for dropDatabase
	// rename target
	toDB, toColl string
	key          any    // documentKey._id
	pre, post    bson.D // images (never modified after recording)
	// images: the collection had changeStreamPreAndPostImages enabled
	images  bool
	changes mquery.Changes
	// desc is operationDescription (DDL events, shown with
	// showExpandedEvents); before is a modify event's stateBeforeChange.
	desc, before bson.D
}

// expandedOps are the event types only showExpandedEvents shows.
var expandedOps = map[string]bool{"create": true, "createIndexes": true, "dropIndexes": true, "modify": true}

// history is the retained change events (guarded by Server.mu).
type history struct {
	events []*changeEvent
	max    int
	// lost is set once an event was forgotten; then every position at or
	// before horizon can no longer be resumed from.
	lost    bool
	horizon bson.Timestamp
	// dropped is the cluster time of the newest forgotten event (when
	// droppedAny): a live cursor before it has missed events.
	dropped    bson.Timestamp
	droppedAny bool
	// notify is closed (and replaced) when an event is recorded.
	notify chan struct{}
}

func tsLess(a, b bson.Timestamp) bool {
	return a.T < b.T || (a.T == b.T && a.I < b.I)
}

// tickLocked advances the cluster time and returns it: strictly increasing.
func (s *Server) tickLocked() bson.Timestamp {
	now := uint32(time.Now().Unix())
	if now > s.clock.T {
		s.clock = bson.Timestamp{T: now, I: 1}
	} else {
		s.clock.I++
	}
	return s.clock
}

func (s *Server) recordLocked(ev *changeEvent) {
	ev.ts = s.tickLocked()
	ev.wall = time.Now()
	h := &s.hist
	h.events = append(h.events, ev)
	if n := len(h.events) - h.max; n > 0 {
		h.lost = true
		h.horizon = h.events[n-1].ts
		h.dropped, h.droppedAny = h.horizon, true
		clear(h.events[:n])
		h.events = h.events[n:]
	}
	close(h.notify)
	h.notify = make(chan struct{})
}

// TrimHistory forgets every retained change event: resuming from any earlier
// token or time then fails with ChangeStreamHistoryLost (286).
func (s *Server) TrimHistory() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.hist.events); n > 0 {
		s.hist.dropped, s.hist.droppedAny = s.hist.events[n-1].ts, true
	}
	s.hist.events = nil
	s.hist.lost = true
	s.hist.horizon = s.tickLocked()
}

// Resume tokens are {_data: hex}: 'T' 'I' of the cluster time, a kind and
// a fragment number ($changeStreamSplitLargeEvent; 0 for a whole event), so
// their hex strings order as the stream does.
const (
	kindEvent      = 1
	kindInvalidate = 2
	kindHighWater  = 3
	tokenPrefix    = "82"
	tokenLen       = len(tokenPrefix) + 8 + 8 + 2 + 2
)

// position is a point in the stream: items after it are delivered.
type position struct {
	ts   bson.Timestamp
	kind byte // 0: before every item at ts (startAtOperationTime)
	// frag is the last fragment delivered of a split event; 0 when the
	// whole event was delivered (or, with kind 0, nothing at ts).
	frag byte
}

// before reports whether the item (ts, kind) is after p; frag is the
// item's fragment number (0: a whole event).
func (p position) before(ts bson.Timestamp, kind byte) bool {
	return tsLess(p.ts, ts) || (p.ts == ts && p.kind < kind)
}

// beforeFragment reports whether fragment frag (1-based) of the event
// (ts, kind) is after p.
func (p position) beforeFragment(ts bson.Timestamp, kind, frag byte) bool {
	if p.ts == ts && p.kind == kind {
		return p.frag != 0 && frag > p.frag
	}
	return p.before(ts, kind)
}

func makeToken(ts bson.Timestamp, kind byte) bson.D {
	return makeFragmentToken(ts, kind, 0)
}

func makeFragmentToken(ts bson.Timestamp, kind, frag byte) bson.D {
	return bson.D{{Key: "_data", Value: fmt.Sprintf("%s%08X%08X%02X%02X", tokenPrefix, ts.T, ts.I, kind, frag)}}
}

// parseToken decodes a resume token; errors are InvalidResumeToken (260).
func parseToken(v any) (position, error) {
	d, ok := v.(bson.D)
	if !ok {
		return position{}, errf(260, "resume token must be a document")
	}
	data, ok := lookupKey(d, "_data")
	str, isStr := data.(string)
	if !ok || !isStr || len(str) != tokenLen || str[:len(tokenPrefix)] != tokenPrefix {
		return position{}, errf(260, "malformed resume token: %v", d)
	}
	b, err := hex.DecodeString(str[len(tokenPrefix):])
	if err != nil {
		return position{}, errf(260, "malformed resume token: %v", d)
	}
	p := position{
		ts: bson.Timestamp{
			T: uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]),
			I: uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7]),
		},
		kind: b[8],
		frag: b[9],
	}
	if p.kind < kindEvent || p.kind > kindHighWater {
		return position{}, errf(260, "malformed resume token: %v", d)
	}
	return p, nil
}

// checkHistoryLocked fails with ChangeStreamHistoryLost when events after
// p may have been forgotten.
func (s *Server) checkHistoryLocked(p position) error {
	h := &s.hist
	if !h.lost {
		return nil
	}
	// Items at or before the horizon are gone: resuming needs every item
	// after p, so p must not be before the horizon's last item.
	if tsLess(p.ts, h.horizon) || (p.ts == h.horizon && p.kind == 0) {
		return &cmdError{code: 286, codeName: "ChangeStreamHistoryLost",
			msg: "Resume of change stream was not possible, as the resume point may no longer be in the oplog."}
	}
	return nil
}

// checkLiveLocked fails with ChangeStreamHistoryLost when an open cursor at
// p has missed forgotten events (a cursor that had seen everything goes on).
func (s *Server) checkLiveLocked(p position) error {
	h := &s.hist
	if h.droppedAny && p.before(h.dropped, kindEvent) {
		return &cmdError{code: 286, codeName: "ChangeStreamHistoryLost",
			msg: "Resume of change stream was not possible, as the resume point may no longer be in the oplog."}
	}
	return nil
}
