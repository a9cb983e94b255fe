package mongotest

import (
	"sort"
	"time"

	"github.com/projectwatcher/watcher/internal/mongotest/mquery"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// streamState is a change stream cursor's state (guarded by Server.mu).
type streamState struct {
	db, coll     string // coll "": whole database; db "": whole cluster
	fullDoc      string // default updateLookup whenAvailable required
	fullDocPre   string // off whenAvailable required
	pipeline     bson.A // the stages after $changeStream
	expanded     bool   // showExpandedEvents
	split        bool   // $changeStreamSplitLargeEvent (the last stage)
	pos          position
	invalidated  bool
	lastExhaused bool // the last scan reached the end of the history
}

// Stages a change stream pipeline may hold after $changeStream.
var streamStages = map[string]bool{
	"$match": true, "$project": true, "$addFields": true, "$set": true, "$unset": true,
	"$replaceRoot": true, "$replaceWith": true,
}

// openChangeStream runs aggregate whose first stage is $changeStream.
func (s *Server) openChangeStream(x *cmdCtx, coll string, spec bson.D, rest bson.A, batchSize int64) (bson.D, error) {
	st := &streamState{db: x.db, coll: coll, fullDoc: "default", fullDocPre: "off", pipeline: rest}
	resume, allCluster, err := st.parseSpec(spec)
	if err != nil {
		return nil, err
	}
	if allCluster {
		if x.db != "admin" || coll != "" {
			return nil, errf(73, "$changeStream may not be opened on the internal admin database")
		}
		st.db = ""
	} else if x.db == "admin" || x.db == "config" || x.db == "local" {
		return nil, errf(73, "$changeStream may not be opened on the internal %s database", x.db)
	}
	if err := st.parsePipeline(); err != nil {
		return nil, err
	}
	ns := x.db + ".$cmd.aggregate"
	if coll != "" {
		ns = x.db + "." + coll
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if resume != nil {
		if err := s.checkHistoryLocked(*resume); err != nil {
			return nil, err
		}
		st.pos = *resume
	} else {
		st.pos = position{ts: s.clock, kind: kindHighWater}
	}
	c := s.newCursorLocked(ns)
	c.stream = st
	batch, err := s.streamBatchLocked(c, batchSize)
	if err != nil {
		return nil, err
	}
	id := c.id
	if st.invalidated {
		delete(s.cursors, id)
		id = 0
	}
	return cursorReply("firstBatch", batch, s.pbrtLocked(st), id, ns), nil
}

// parseSpec reads the $changeStream stage's options into st; resume is
// where a resumeAfter, startAfter or startAtOperationTime starts.
func (st *streamState) parseSpec(spec bson.D) (resume *position, allCluster bool, err error) {
	var resumeOpts int
	for _, e := range spec {
		switch e.Key {
		case "fullDocument":
			v, _ := e.Value.(string)
			switch v {
			case "default", "updateLookup", "whenAvailable", "required":
				st.fullDoc = v
			default:
				return nil, false, errf(2, "'%v' is not a valid value for $changeStream.fullDocument", e.Value)
			}
		case "fullDocumentBeforeChange":
			v, _ := e.Value.(string)
			switch v {
			case "off", "whenAvailable", "required":
				st.fullDocPre = v
			default:
				return nil, false, errf(2, "'%v' is not a valid value for $changeStream.fullDocumentBeforeChange", e.Value)
			}
		case "resumeAfter", "startAfter":
			p, err := parseToken(e.Value)
			if err != nil {
				return nil, false, err
			}
			if e.Key == "resumeAfter" && p.kind == kindInvalidate {
				return nil, false, errf(260, "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.")
			}
			resume = &p
			resumeOpts++
		case "startAtOperationTime":
			ts, ok := e.Value.(bson.Timestamp)
			if !ok {
				return nil, false, errf(14, "$changeStream.startAtOperationTime must be a timestamp")
			}
			resume = &position{ts: ts}
			resumeOpts++
		case "allChangesForCluster":
			allCluster = asBool(e.Value)
		case "showExpandedEvents":
			st.expanded = asBool(e.Value)
		case "showSystemEvents", "showMigrationEvents", "showRawUpdateDescription":
			// accepted: there are no system, migration or raw events here
		default:
			return nil, false, errf(40415, "BSON field '$changeStream.%s' is an unknown field.", e.Key)
		}
	}
	if resumeOpts > 1 {
		return nil, false, errf(40674, "Only one type of resume option is allowed, but multiple were found.")
	}
	return resume, allCluster, nil
}

// streamGetMore answers getMore on a change stream cursor: the events after
// its position, waiting up to wait for one when there are none.
func (s *Server) streamGetMore(c *cursor, batchSize int64, wait time.Duration) (bson.D, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.cursors[c.id] != c {
			return nil, errf(43, "cursor id %d not found", c.id)
		}
		batch, err := s.streamBatchLocked(c, batchSize)
		if err != nil {
			delete(s.cursors, c.id)
			return nil, err
		}
		expired := false
		if len(batch) == 0 && !c.stream.invalidated {
			notify := s.hist.notify
			s.mu.Unlock()
			select {
			case <-notify:
			case <-deadline.C:
				expired = true
			case <-s.done:
				expired = true
			}
			s.mu.Lock()
			if !expired {
				continue
			}
			if s.cursors[c.id] != c {
				return nil, errf(43, "cursor id %d not found", c.id)
			}
			// one last look: an event may have come with the deadline
			batch, err = s.streamBatchLocked(c, batchSize)
			if err != nil {
				delete(s.cursors, c.id)
				return nil, err
			}
		}
		id := c.id
		if c.stream.invalidated {
			delete(s.cursors, id)
			id = 0
		}
		return cursorReply("nextBatch", batch, s.pbrtLocked(c.stream), id, c.ns), nil
	}
}

// pbrtLocked is the postBatchResumeToken: the stream's position. When the
// whole history was scanned it is a high-water mark at the current cluster
// time (ticked when nothing happened since, so it advances on a quiet stream).
func (s *Server) pbrtLocked(st *streamState) bson.D {
	if st.lastExhaused && !st.invalidated {
		if tsLess(st.pos.ts, s.clock) {
			st.pos = position{ts: s.clock, kind: kindHighWater}
		} else {
			st.pos = position{ts: s.tickLocked(), kind: kindHighWater}
		}
	}
	if st.pos.kind == 0 {
		// before every item at ts: the token of the instant before it
		ts := st.pos.ts
		if ts.I > 0 {
			ts.I--
		} else if ts.T > 0 {
			ts = bson.Timestamp{T: ts.T - 1, I: ^uint32(0)}
		}
		return makeToken(ts, kindHighWater)
	}
	return makeFragmentToken(st.pos.ts, st.pos.kind, st.pos.frag)
}

// streamBatchLocked collects up to batchSize (< 0: no limit) events after
// the cursor's position and advances it.
func (s *Server) streamBatchLocked(c *cursor, batchSize int64) (bson.A, error) {
	st := c.stream
	batch := bson.A{}
	st.lastExhaused = false
	if st.invalidated {
		return batch, nil
	}
	if err := s.checkLiveLocked(st.pos); err != nil {
		return nil, err // the cursor fell behind the history window
	}
	if batchSize == 0 {
		return batch, nil
	}
	evs := s.hist.events
	start := sort.Search(len(evs), func(i int) bool { return !tsLess(evs[i].ts, st.pos.ts) })
	size := 0
	for _, e := range evs[start:] {
		for _, kind := range s.itemsFor(st, e) {
			if !st.pos.before(e.ts, kind) && !(st.split && st.pos.ts == e.ts && st.pos.kind == kind && st.pos.frag != 0) {
				continue
			}
			outs, err := s.streamItemLocked(st, e, kind)
			if err != nil {
				return nil, err
			}
			for _, o := range outs {
				if len(batch) > 0 && size+o.size > maxBatchBytes {
					return batch, nil // the next batch starts with this one
				}
				st.pos = o.pos
				size += o.size
				batch = append(batch, o.doc)
			}
			if len(outs) == 0 {
				st.pos = position{ts: e.ts, kind: kind}
			}
			if kind == kindInvalidate {
				st.invalidated = true
				return batch, nil
			}
			if (batchSize > 0 && int64(len(batch)) >= batchSize) || size >= maxBatchBytes {
				return batch, nil
			}
		}
	}
	st.lastExhaused = true
	return batch, nil
}

// streamItem is one document a change stream returns, and the position
// after it.
type streamItem struct {
	doc  bson.D
	pos  position
	size int
}

// streamItemLocked renders item (e, kind) for stream st and runs its
// pipeline: nothing when the pipeline filters it out, several fragments
// when $changeStreamSplitLargeEvent splits it (only those after the
// stream's position).
func (s *Server) streamItemLocked(st *streamState, e *changeEvent, kind byte) ([]streamItem, error) {
	doc, err := s.renderLocked(st, e, kind)
	if err != nil {
		return nil, err
	}
	out, err := s.applyStreamPipeline(st, doc)
	if err != nil || out == nil {
		return nil, err
	}
	size := docSize(out)
	if size <= maxBSONObjectSize {
		if st.pos.ts == e.ts && st.pos.kind == kind && st.pos.frag != 0 {
			return nil, nil // resumed from a fragment of an event that is whole now
		}
		return []streamItem{{doc: out, pos: position{ts: e.ts, kind: kind}, size: size}}, nil
	}
	if !st.split {
		return nil, errf(10334, "BSONObj size: %d (0x%X) is invalid. Size must be between 0 and 16793600(16MB) First element: _id: %v", size, size, doc[0].Value)
	}
	frags, err := splitEvent(out, e.ts, kind)
	if err != nil {
		return nil, err
	}
	var items []streamItem
	for _, f := range frags {
		if st.pos.beforeFragment(e.ts, kind, f.pos.frag) || !(st.pos.ts == e.ts && st.pos.kind == kind) {
			items = append(items, f)
		}
	}
	return items, nil
}

func (s *Server) applyStreamPipeline(st *streamState, doc bson.D) (bson.D, error) {
	if len(st.pipeline) == 0 {
		return doc, nil
	}
	out, err := mquery.Aggregate([]bson.D{doc}, st.pipeline)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	id, _ := lookupKey(doc, "_id")
	gotID, ok := lookupKey(out[0], "_id")
	if !ok || !sameDoc(bson.D{{Key: "v", Value: id}}, bson.D{{Key: "v", Value: gotID}}) {
		return nil, errf(280, "Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.")
	}
	return out[0], nil
}
