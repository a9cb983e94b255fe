package mongotest

import (
	"crypto/sha256"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// cmdKillAllSessions kills every session's operations and cursors. Every
// cursor here belongs to a session (drivers always send one), so every
// cursor is killed; a getMore waiting on one then fails with CursorNotFound.
func (s *Server) cmdKillAllSessions(x *cmdCtx) (bson.D, error) {
	if x.db != "admin" {
		return nil, errf(13, "killAllSessions may only be run against the admin database.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.cursors)
	clear(s.sessions)
	s.wakeStreamsLocked()
	return bson.D{}, nil
}

// isChangeStreamCmd reports whether x opens a change stream (an aggregate
// whose first stage is $changeStream) or reads one (a getMore on a change
// stream cursor).
func (s *Server) isChangeStreamCmd(x *cmdCtx) bool {
	switch x.name {
	case "aggregate":
		pv, _ := x.get("pipeline")
		p, _ := pv.(bson.A)
		if len(p) == 0 {
			return false
		}
		st, _ := p[0].(bson.D)
		return len(st) > 0 && st[0].Key == "$changeStream"
	case "getMore":
		id, _ := asInt64(x.cmd[0].Value)
		s.mu.Lock()
		defer s.mu.Unlock()
		c := s.cursors[id]
		return c != nil && c.stream != nil
	}
	return false
}

// killCursorOf kills the cursor a getMore names.
func (s *Server) killCursorOf(x *cmdCtx) {
	id, _ := asInt64(x.cmd[0].Value)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cursors, id)
	s.wakeStreamsLocked()
}

// wakeStreamsLocked wakes every getMore waiting for change events, so that
// one whose cursor was killed returns.
func (s *Server) wakeStreamsLocked() {
	close(s.hist.notify)
	s.hist.notify = make(chan struct{})
}

// session is a logical session seen in a command's lsid.
type session struct {
	id      any // lsid.id (a UUID)
	lastUse time.Time
}

// noteSession records the command's session (as the server's session cache
// does), or forgets the sessions endSessions names.
func (s *Server) noteSession(x *cmdCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x.name == "endSessions" {
		v, _ := x.get("endSessions")
		ids, _ := v.(bson.A)
		for _, l := range ids {
			if d, ok := l.(bson.D); ok {
				id, _ := lookupKey(d, "id")
				delete(s.sessions, idKey(id))
			}
		}
		return
	}
	v, ok := x.get("lsid")
	d, isDoc := v.(bson.D)
	if !ok || !isDoc {
		return
	}
	id, _ := lookupKey(d, "id")
	s.sessions[idKey(id)] = &session{id: id, lastUse: time.Now()}
}

// anonymousUID is the uid of sessions without a user: SHA-256 of "".
var anonymousUID = func() bson.Binary {
	h := sha256.Sum256(nil)
	return bson.Binary{Subtype: 0, Data: h[:]}
}()

// localSessions are the documents $listLocalSessions returns.
func (s *Server) localSessions() []bson.D {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]bson.D, 0, len(s.sessions))
	for _, se := range s.sessions {
		out = append(out, bson.D{
			{Key: "_id", Value: bson.D{{Key: "id", Value: se.id}, {Key: "uid", Value: anonymousUID}}},
			{Key: "lastUse", Value: bson.NewDateTimeFromTime(se.lastUse)},
		})
	}
	sort.Slice(out, func(i, k int) bool {
		a, _ := lookupKey(out[i], "lastUse")
		b, _ := lookupKey(out[k], "lastUse")
		return a.(bson.DateTime) < b.(bson.DateTime)
	})
	return out
}
