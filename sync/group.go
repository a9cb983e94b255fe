package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
)

// group is the events applied together: of distinct projects, with
// operations that read the same (the same collections and fields, see
// shapeOf), at most maxBatchIDs. Each collection is read once for all of
// them (discovery); everything else is per event: its operation's
// decisions, its limit, its writes, its report and its error.
type group struct {
	a     *Applier
	ctx   context.Context
	colls []config.Collection
	limit int            // a limited first pass holds writes up to it (0: none)
	pages chan struct{}  // the pages its members write at once (Applier.pageBudget)
	wg    sync.WaitGroup // every goroutine of the group
}

// member is one event of a group.
type member struct {
	g         *group
	projectID string
	op        operation
	done      func(event.Report, error) // told the outcome (nil: nobody)
	shares    []*share                  // by collection, in the order of g.colls
	seen      atomic.Int64              // a limited event: documents seen in all collections
	over      atomic.Bool               // a limited event is over the limit
	left      atomic.Int32              // shares not finished (limited: not read yet)

	rep event.Report
	err error
}

// runGroup applies the members' operations and returns when every member
// is finished (its outcome in rep and err, and told to done as soon as it
// is known, however long the others take). Their page writes take places
// in pages (see pageBudget).
//
// Without a limit each collection is read page by page and every member's
// part of a page is written as soon as it is read. With one (WithLimit),
// each member's writes are held until its reads in every collection are
// over and within the limit (nothing is written above it; a member over it
// fails alone); a limit too large to hold that many writes is checked by
// counting instead, and the members then go on as without a limit. With
// WithDryRun the reads are the same, nothing is written, and each
// collection logs what it would do.
func (a *Applier) runGroup(ctx context.Context, members []*member, pages chan struct{}) {
	g := &group{a: a, ctx: ctx, limit: a.opts.limit, pages: pages}
	live := make([]*member, 0, len(members))
	for _, m := range members {
		m.g = g
		if strings.TrimSpace(m.projectID) == "" {
			// Apply refuses it first; this is the one way to a query.
			m.finish(event.Report{}, event.ErrEmptyProjectID)
			continue
		}
		live = append(live, m)
	}
	if len(live) == 0 {
		return
	}
	g.colls = live[0].op.collections()
	if g.limit > maxBufferedDocs {
		live = g.countFirst(live)
		g.limit = 0
	}
	if len(live) == 0 {
		return
	}
	for _, m := range live {
		m.shares = make([]*share, len(g.colls))
		for i, c := range g.colls {
			m.shares[i] = newShare(m, c)
			m.shares[i].begin(1, g.limit > 0)
		}
		m.left.Store(int32(len(g.colls)))
		if len(g.colls) == 0 {
			m.finish(event.Report{Collections: []event.CollectionReport{}}, nil)
		}
	}
	g.discoverAll(live)
	g.wg.Wait()
}

// discoverAll reads every collection for the members, at most
// opts.concurrency at a time.
func (g *group) discoverAll(live []*member) {
	onEnd := g.streamed
	if g.limit > 0 {
		onEnd = g.readHeld
	}
	sem := make(chan struct{}, g.a.opts.concurrency)
	for i, c := range g.colls {
		shares := make([]*share, 0, len(live))
		for _, m := range live {
			shares = append(shares, m.shares[i])
		}
		fields := live[0].op.fields(c)
		g.wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			g.discover(c, fields, shares, nil, onEnd)
		})
	}
}

// streamed finishes a share whose first pass was written as it was read.
func (g *group) streamed(s *share) {
	g.wg.Go(func() {
		first, err := s.streamed()
		s.rep, s.err = s.finish(first, err)
		if s.m.left.Add(-1) == 0 {
			s.m.finishShares()
		}
	})
}

// readHeld notes that a limited share's read is over; once every read of
// its member is, the member writes (or fails on the limit).
func (g *group) readHeld(s *share) {
	if s.m.left.Add(-1) == 0 {
		g.wg.Go(s.m.writeHeld)
	}
}

// countFirst checks the limit of each member by counting its documents
// (one aggregation query per collection and member); a member over it, or
// whose count failed, is finished. It returns the others.
func (g *group) countFirst(members []*member) []*member {
	keep := make([]bool, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() {
			count := func(ctx context.Context) (event.Report, error) { return g.a.countProject(ctx, g.colls, m.projectID) }
			if rep, err := overLimit(g.ctx, count, m.projectID, g.limit); err != nil {
				m.finish(rep, err)
				return
			}
			keep[i] = true
		})
	}
	wg.Wait()
	live := members[:0:0]
	for i, m := range members {
		if keep[i] {
			live = append(live, m)
		}
	}
	return live
}

// writeHeld is a limited member after its reads: over the limit it fails,
// having written nothing; a failed read fails it; otherwise it writes what
// it holds, collection by collection, and finishes each.
func (m *member) writeHeld() {
	matched := event.Report{Collections: make([]event.CollectionReport, len(m.shares))}
	var readErrs []error
	for i, s := range m.shares {
		matched.Collections[i] = event.CollectionReport{Collection: s.coll.Name, Matched: s.held.matched}
		if s.readErr != nil {
			readErrs = append(readErrs, fmt.Errorf("collection %s: %w", s.coll.Name, s.readErr))
		}
	}
	if n := m.seen.Load(); n > int64(m.g.limit) {
		m.finish(matched, fmt.Errorf("%w: project %s has more than %d documents (%d seen before stopping); nothing was written",
			event.ErrSafetyLimit, m.projectID, m.g.limit, n))
		return
	}
	if len(readErrs) > 0 {
		m.finish(matched, errors.Join(readErrs...))
		return
	}
	m.finish(m.g.a.eachCollection(m.g.ctx, m.g.colls, func(_ context.Context, i int, _ config.Collection) (event.CollectionReport, error) {
		s := m.shares[i]
		first, err := s.writeHeld()
		return s.finish(first, err)
	}))
}

// finishShares finishes a member from its shares' outcomes.
func (m *member) finishShares() {
	rep := event.Report{Collections: make([]event.CollectionReport, len(m.shares))}
	errs := make([]error, 0, len(m.shares))
	for i, s := range m.shares {
		rep.Collections[i] = s.rep
		rep.Collections[i].Collection = s.coll.Name
		if s.err != nil {
			errs = append(errs, fmt.Errorf("collection %s: %w", s.coll.Name, s.err))
		}
	}
	m.finish(rep, errors.Join(errs...))
}

func (m *member) finish(rep event.Report, err error) {
	m.rep, m.err = rep, err
	if m.done != nil {
		m.done(rep, err)
	}
}

// pageBudget bounds the pages being written at once by all the events of
// one Apply or ApplyBatch call: as many as one event can have
// (pagesInFlight in each of opts.concurrency collections), so that a batch
// holds no more writes in flight, nor subcollection walks (one per page),
// than one event could.
func (a *Applier) pageBudget() chan struct{} {
	return make(chan struct{}, pagesInFlight*a.opts.concurrency)
}

// goOver marks a limited member over the limit: the reads it is still in
// stop reading for it.
func (m *member) goOver() {
	if m.over.Swap(true) {
		return
	}
	for _, s := range m.shares {
		if d := s.disc.Load(); d != nil {
			d.poke()
		}
	}
}
