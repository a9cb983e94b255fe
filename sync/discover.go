package sync

import (
	"context"
	"errors"
	"slices"
	"sync"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
)

// discovery is one read of a collection for the events of a batch (or for
// one event): one query names every project still in the read (`==` for
// one, `in` for several, at most maxBatchIDs), ordered by document id, and
// each page is split by the id field, each part going to its own event's
// share (share.take): the event's own operation decides each document's
// write, and its own limit, writes and report follow from there. A
// document whose id field names no project of the read is never given to
// anyone.
//
// An event leaves the read when its share stops (over the limit, a write
// failed) or when it turns out large: once it got a page of documents
// while others are in the read, it graduates to a read of its own that
// continues after the last document handed out, so a giant project never
// holds the small ones of its batch behind its documents. Each time an
// event leaves, the read continues with a new query for the others, after
// the last document handed out (its documents are not read for nothing).
type discovery struct {
	g      *group
	coll   config.Collection
	fields []firestore.FieldPath
	onEnd  func(*share) // told once per share whose read is over; nil: the caller waits for run

	mu     sync.Mutex // guards live and cancel against poke
	live   []*share
	cancel context.CancelFunc // of the current query

	byID    map[string]*share // the live shares by project id
	split   bool              // the current query names several projects
	changed bool              // a share left during the current query
	touched []*share          // scratch of splitPage
}

// errRequery ends a query at a page boundary so that the read goes on with
// a query for the shares still in it; errAllLeft ends it when none is.
var (
	errRequery = errors.New("the projects of the read changed")
	errAllLeft = errors.New("no project is left in the read")
)

// discover reads coll's documents of the shares' projects, from after
// `after` (nil: from the start), and hands each share its documents. It
// returns when the read is over for every share it did not hand to a read
// of its own; onEnd (nil: none) is told about each share once its read is
// over (share.readErr says why), graduates included.
func (g *group) discover(coll config.Collection, fields []firestore.FieldPath, shares []*share, after *firestore.DocumentSnapshot, onEnd func(*share)) {
	d := &discovery{g: g, coll: coll, fields: fields, onEnd: onEnd, byID: make(map[string]*share, len(shares))}
	for _, s := range shares {
		if s.held != nil && s.m.over.Load() {
			s.readErr = errTooMany
			d.ended(s)
			continue
		}
		s.inRead = 0
		d.live = append(d.live, s)
		d.byID[s.m.projectID] = s
		s.disc.Store(d)
	}
	d.run(after)
}

// run issues the read's queries until every share's read is over.
func (d *discovery) run(after *firestore.DocumentSnapshot) {
	requery := false
	for len(d.live) > 0 {
		ids := make([]string, len(d.live))
		for i, s := range d.live {
			ids[i] = s.m.projectID
			if !requery {
				// The first query of the read, or one that goes on after a
				// full window: the read takes one more query for its volume
				// (a new query only because an event left does not count).
				s.queries++
			}
		}
		window := d.window()
		q := d.g.a.discoveryQuery(d.coll, ids, d.fields).OrderBy(firestore.DocumentID, firestore.Asc).Limit(window)
		if after != nil {
			q = q.StartAfter(after)
		}
		d.split = len(ids) > 1
		ctx, cancel := context.WithCancel(d.g.ctx)
		d.setCancel(cancel)
		res, err := d.g.a.streamPages(ctx, q, d.page)
		d.setCancel(nil)
		cancel()
		d.sweep()
		switch {
		case len(d.live) == 0:
			return
		case err != nil && !errors.Is(err, errRequery):
			d.endAll(err)
			return
		case res.exhausted && res.n < window:
			d.endAll(nil)
			return
		}
		after, requery, d.changed = res.last, errors.Is(err, errRequery), false
	}
}

// window is how many documents the next query asks for: a limited first
// pass reads no more than every share can still take before it is over
// its limit (limit+1 documents of an event in a collection at most).
func (d *discovery) window() int {
	w := d.g.a.opts.pageSize * pagesPerQuery
	budget := 0
	for _, s := range d.live {
		if s.held == nil {
			return w
		}
		budget += d.g.limit + 1 - s.held.matched
	}
	return min(w, budget)
}

// page hands one page of results to the shares they belong to.
func (d *discovery) page(snaps []*firestore.DocumentSnapshot) error {
	if d.split {
		d.splitPage(snaps)
	} else if len(d.live) == 1 {
		d.give(d.live[0], snaps) // an equality query: every document is the one project's
	}
	d.sweep()
	d.graduate(snaps[len(snaps)-1])
	if len(d.live) == 0 {
		return errAllLeft
	}
	if d.changed {
		return errRequery
	}
	return nil
}

// splitPage gives each live share the documents of the page whose id
// field is its project id.
func (d *discovery) splitPage(snaps []*firestore.DocumentSnapshot) {
	d.touched = d.touched[:0]
	for _, doc := range snaps {
		v, err := doc.DataAtPath(d.g.a.idPath)
		id, _ := v.(string)
		s := d.byID[id]
		if err != nil || s == nil {
			continue // not the document of a project in the read: never written
		}
		if len(s.part) == 0 {
			d.touched = append(d.touched, s)
		}
		s.part = append(s.part, doc)
	}
	for _, s := range d.touched {
		d.give(s, s.part)
		clear(s.part)
		s.part = s.part[:0]
	}
}

// give hands s its documents of a page; a share that stops leaves the read.
func (d *discovery) give(s *share, docs []*firestore.DocumentSnapshot) {
	writes := make([]write, 0, len(docs))
	for _, doc := range docs {
		if w, ok := s.m.op.writeFor(d.coll, doc); ok {
			writes = append(writes, w)
		}
	}
	s.inRead += len(docs)
	if err := s.take(len(docs), writes); err != nil {
		d.drop(slices.Index(d.live, s), err)
	}
}

// graduate moves each share that got a page of documents or more to a
// read of its own, continuing after the page's last document, as long as
// others are left in this read.
func (d *discovery) graduate(after *firestore.DocumentSnapshot) {
	for i := 0; i < len(d.live) && len(d.live) > 1; {
		s := d.live[i]
		if s.inRead < d.g.a.opts.pageSize {
			i++
			continue
		}
		d.remove(i) // its read goes on with a query of its own: a pass of several queries
		d.g.wg.Go(func() { d.g.discover(d.coll, d.fields, []*share{s}, after, d.onEnd) })
	}
}

// sweep drops the shares of events that went over the limit meanwhile (in
// another collection's read).
func (d *discovery) sweep() {
	for i := 0; i < len(d.live); {
		if s := d.live[i]; s.held != nil && s.m.over.Load() {
			d.drop(i, errTooMany)
			continue
		}
		i++
	}
}

// drop ends the read of d.live[i] with err.
func (d *discovery) drop(i int, err error) {
	s := d.live[i]
	d.remove(i)
	s.readErr = err
	d.ended(s)
}

// endAll ends the read of every live share with err (nil: read to the end).
func (d *discovery) endAll(err error) {
	live := d.live
	d.mu.Lock()
	d.live = nil
	d.mu.Unlock()
	for _, s := range live {
		delete(d.byID, s.m.projectID)
		s.disc.Store(nil)
		s.readErr = err
		d.ended(s)
	}
}

// remove takes d.live[i] out of the read; the query is renewed.
func (d *discovery) remove(i int) {
	s := d.live[i]
	d.mu.Lock()
	d.live = slices.Delete(d.live, i, i+1)
	d.mu.Unlock()
	delete(d.byID, s.m.projectID)
	s.disc.Store(nil)
	d.changed = true
}

func (d *discovery) ended(s *share) {
	if s.held != nil && s.m.over.Load() {
		s.held.writes = nil // an event over the limit writes nothing
	}
	if d.onEnd != nil {
		d.onEnd(s)
	}
}

func (d *discovery) setCancel(c context.CancelFunc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cancel = c
}

// poke is called from another read when an event went over the limit: once
// every share left in this read is over, its query is cancelled at once
// (nothing it could still read would be written).
func (d *discovery) poke() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.live {
		if !s.m.over.Load() {
			return
		}
	}
	if d.cancel != nil {
		d.cancel()
	}
}
