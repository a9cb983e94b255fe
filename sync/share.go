package sync

import (
	"fmt"
	"sync/atomic"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/rs/zerolog"
)

// share is one event applied to one collection: what it reads there and
// writes, pass after pass. Its first pass is read by the batch's
// discovery, its later passes (finish) by reads of its own. Only the
// goroutine reading it touches the pass's state.
type share struct {
	m    *member
	coll config.Collection
	log  zerolog.Logger

	n       int       // the pass, from 1
	pass    pass      // what the pass did so far
	queries int       // queries the pass's read took for its volume (see discovery.run)
	inRead  int       // documents the current discovery gave it
	pages   *inflight // the pass's writes as they are read (nil while held)
	held    *heldRead // a limited first pass: writes held until the event is known within the limit
	readErr error     // what ended the pass's read (nil: read to the end)
	part    []*firestore.DocumentSnapshot
	disc    atomic.Pointer[discovery] // the read it is in, for poke

	rep event.CollectionReport // every pass
	err error
}

func newShare(m *member, coll config.Collection) *share {
	return &share{m: m, coll: coll,
		log: m.g.a.log.With().Str("projectId", m.projectID).Str("collection", coll.Name).Logger()}
}

// begin starts pass n; a limited first pass holds its writes.
func (s *share) begin(n int, limited bool) {
	s.n, s.pass, s.queries, s.readErr, s.pages, s.held = n, pass{}, 0, nil, nil, nil
	if limited {
		s.held = &heldRead{}
	} else {
		s.pages = newInflightIn(s.m.g.pages)
	}
}

// take is given the documents of a page that are the project's: n of
// them, needing writes. A limited first pass holds the writes while the
// event stays within the limit; any other pass writes them as it reads,
// up to pagesInFlight pages at once. A document that needs no write
// counts as matched in the first pass only (an archived document is
// matched once, not once per pass). An error stops the share's read.
func (s *share) take(n int, writes []write) error {
	if h := s.held; h != nil {
		h.matched += n
		if s.m.seen.Add(int64(n)) > int64(s.m.g.limit) {
			h.writes = nil
			s.m.goOver()
			return errTooMany
		}
		h.writes = append(h.writes, writes...)
		return nil
	}
	if s.n == 1 {
		s.pass.rep.Matched += n
	} else {
		s.pass.rep.Matched += len(writes)
	}
	s.pass.acted += len(writes)
	return s.start(s.pages, writes)
}

// start has the operation write one page in the background (see inflight);
// an empty page, or any page of a dry run, writes nothing.
func (s *share) start(pages *inflight, writes []write) error {
	if len(writes) == 0 || s.m.g.a.opts.dryRun {
		return nil
	}
	ctx := s.m.g.ctx
	return pages.start(func() (event.CollectionReport, error) {
		return s.m.op.writePage(ctx, s.log, s.coll, writes)
	})
}

// streamed completes a pass whose writes were made as it read: it waits
// for them.
func (s *share) streamed() (pass, error) {
	done, err := s.pages.wait(s.readErr)
	addWrites(&s.pass.rep, done)
	s.pass.multi = s.queries > 1
	return s.pass, err
}

// stream is pass n (from 2) over the project's documents of the
// collection, from the start, read alone, written as it reads.
func (s *share) stream(n int) (pass, error) {
	s.begin(n, false)
	s.m.g.discover(s.coll, s.m.op.fields(s.coll), []*share{s}, nil, nil)
	return s.streamed()
}

// writeHeld is the first pass of a limited event within its limit: it
// writes what was read and held, a page at a time, pagesInFlight pages at
// once.
func (s *share) writeHeld() (pass, error) {
	h := s.held
	s.held = nil
	p := pass{rep: event.CollectionReport{Matched: h.matched}, acted: len(h.writes), multi: s.queries > 1}
	pages := newInflightIn(s.m.g.pages)
	size := s.m.g.a.opts.pageSize
	var err error
	for start := 0; start < len(h.writes) && err == nil; start += size {
		err = s.start(pages, h.writes[start:min(start+size, len(h.writes))])
	}
	done, err := pages.wait(err)
	addWrites(&p.rep, done)
	return p, err
}

// finish completes the collection after its first pass. When that pass
// took more than one query and wrote, an operation that repeats (a
// cleanup) passes over the collection again from the start, as its cursor
// moved on while documents could be written behind it, until a pass finds
// nothing to do or fits one query; at most opts.maxPasses passes. A pass
// that fit one query is not repeated: a second query would only see what
// was written in the milliseconds since, and documents written after any
// pass are left to reconciliation anyway. A dry run makes one pass and
// logs it.
func (s *share) finish(first pass, err error) (event.CollectionReport, error) {
	a, op := s.m.g.a, s.m.op
	rep, last := first.rep, first
	for n := 2; err == nil && op.repeats() && !a.opts.dryRun && last.multi && last.acted > 0; n++ {
		if n > a.opts.maxPasses {
			return rep, fmt.Errorf("documents of the project still appear after %d passes (written concurrently?)", n-1)
		}
		last, err = s.stream(n)
		rep.Matched += last.rep.Matched
		addWrites(&rep, last.rep)
	}
	if err == nil && a.opts.dryRun {
		line := a.dryLog.Info().Bool("dryRun", true).Str("projectId", s.m.projectID).Str("collection", s.coll.Name).
			Int("matched", rep.Matched).Int("writes", first.acted)
		op.logDryRun(line, s.coll)
	}
	return rep, err
}

// pass is what one pass over the collection did.
type pass struct {
	rep   event.CollectionReport
	acted int  // documents written (in a dry run: that would be)
	multi bool // its reads took more than one query
}

// addWrites adds what src wrote (not what it matched) to dst.
func addWrites(dst *event.CollectionReport, src event.CollectionReport) {
	dst.Deleted += src.Deleted
	dst.Archived += src.Archived
	dst.Updated += src.Updated
}
