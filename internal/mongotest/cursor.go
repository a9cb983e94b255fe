package mongotest

import (
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Batches stop growing past this many bytes (as MongoDB's 16 MiB limit).
const maxBatchBytes = maxBSONObjectSize

// defaultFirstBatch is find's and aggregate's default first batch size.
const defaultFirstBatch = 101

// cursor is an open server cursor (guarded by Server.mu).
type cursor struct {
	id     int64
	ns     string
	docs   []bson.D     // plain cursor: the remaining results
	stream *streamState // change stream cursor
}

func (s *Server) newCursorLocked(ns string) *cursor {
	for {
		id := rand.Int64N(1<<62) + 1
		if _, taken := s.cursors[id]; !taken {
			c := &cursor{id: id, ns: ns}
			s.cursors[id] = c
			return c
		}
	}
}

// takeBatch removes up to n documents (n < 0: no count limit) from docs,
// within the batch byte limit.
func takeBatch(docs *[]bson.D, n int64) bson.A {
	out := bson.A{}
	size := 0
	for len(*docs) > 0 && (n < 0 || int64(len(out)) < n) {
		d := (*docs)[0]
		b, _ := bson.Marshal(d)
		if len(out) > 0 && size+len(b) > maxBatchBytes {
			break
		}
		size += len(b)
		out = append(out, d)
		*docs = (*docs)[1:]
	}
	return out
}

// plainCursorReply answers with a first batch of results and keeps the rest
// in a cursor (unless singleBatch or nothing remains).
func (s *Server) plainCursorReply(ns string, docs []bson.D, batchSize int64, single bool) bson.D {
	if batchSize < 0 {
		batchSize = defaultFirstBatch
	}
	first := takeBatch(&docs, batchSize)
	var id int64
	if len(docs) > 0 && !single {
		s.mu.Lock()
		c := s.newCursorLocked(ns)
		c.docs = docs
		id = c.id
		s.mu.Unlock()
	}
	return cursorReply("firstBatch", first, nil, id, ns)
}

func cursorReply(batchKey string, batch bson.A, pbrt bson.D, id int64, ns string) bson.D {
	cur := bson.D{{Key: batchKey, Value: batch}}
	if pbrt != nil {
		cur = append(cur, bson.E{Key: "postBatchResumeToken", Value: pbrt})
	}
	cur = append(cur, bson.E{Key: "id", Value: id}, bson.E{Key: "ns", Value: ns})
	return bson.D{{Key: "cursor", Value: cur}}
}

func (s *Server) cmdGetMore(x *cmdCtx) (bson.D, error) {
	id, ok := asInt64(x.cmd[0].Value)
	if !ok {
		return nil, errf(14, "getMore: cursor id must be a number")
	}
	batchSize, hasBatch, err := x.optInt("batchSize")
	if err != nil {
		return nil, err
	}
	if !hasBatch || batchSize <= 0 {
		batchSize = -1
	}
	maxTime, hasMax, err := x.optInt("maxTimeMS")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	c := s.cursors[id]
	if c == nil {
		s.mu.Unlock()
		return nil, errf(43, "cursor id %d not found", id)
	}
	if c.stream == nil {
		batch := takeBatch(&c.docs, batchSize)
		if len(c.docs) == 0 {
			delete(s.cursors, id)
			id = 0
		}
		ns := c.ns
		s.mu.Unlock()
		return cursorReply("nextBatch", batch, nil, id, ns), nil
	}
	s.mu.Unlock()
	wait := time.Second
	if hasMax && maxTime > 0 {
		wait = time.Duration(maxTime) * time.Millisecond
	}
	return s.streamGetMore(c, batchSize, wait)
}

func (s *Server) cmdKillCursors(x *cmdCtx) (bson.D, error) {
	v, _ := x.get("cursors")
	ids, _ := v.(bson.A)
	killed, notFound := bson.A{}, bson.A{}
	s.mu.Lock()
	for _, raw := range ids {
		id, _ := asInt64(raw)
		if _, ok := s.cursors[id]; ok {
			delete(s.cursors, id)
			killed = append(killed, id)
		} else {
			notFound = append(notFound, id)
		}
	}
	s.mu.Unlock()
	return bson.D{
		{Key: "cursorsKilled", Value: killed},
		{Key: "cursorsNotFound", Value: notFound},
		{Key: "cursorsAlive", Value: bson.A{}},
		{Key: "cursorsUnknown", Value: bson.A{}},
	}, nil
}
