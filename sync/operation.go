package sync

import (
	"context"
	"fmt"
	"strings"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/rs/zerolog"
)

// operation is what one kind of event does to the project's documents: a
// cleanup (cleanup.go) or a propagation of copied fields (propagate.go).
// run carries every operation out the same way; an operation only says
// what it reads, which write a document needs and how a page is written.
type operation interface {
	// collections lists the configured collections the event reaches.
	collections() []config.Collection
	// fields lists what the event reads of each document of coll (none:
	// the document ids only).
	fields(coll config.Collection) []firestore.FieldPath
	// writeFor is the write s needs; false when it needs none (it holds
	// the event's effect already).
	writeFor(coll config.Collection, s *firestore.DocumentSnapshot) (write, bool)
	// writePage makes one page of writes and reports what it did.
	writePage(ctx context.Context, log zerolog.Logger, coll config.Collection, writes []write) (event.CollectionReport, error)
	// repeats tells whether a pass that took several queries and wrote is
	// followed by another from the start (see collectionRun.finish).
	repeats() bool
	// logDryRun completes a dry run's log line for coll (it names the
	// project, the collection and the documents matched) with what the
	// event would change, and sends it.
	logDryRun(line *zerolog.Event, coll config.Collection)
}

// run applies op to the project's documents in op's collections.
//
// Without a limit each collection is read page by page and every page is
// written as soon as it is read. With one (WithLimit), every collection is
// read first and the writes are held until the whole event is known to be
// within the limit (readWithin: nothing is written above it); a limit too
// large to hold that many writes is checked by counting instead, and the
// event then goes on as without a limit. With WithDryRun the reads are the
// same, nothing is written, and each collection logs what it would do.
func (a *Applier) run(ctx context.Context, projectID string, op operation) (event.Report, error) {
	if strings.TrimSpace(projectID) == "" {
		// Apply refuses it first; this is the one way to a query.
		return event.Report{}, event.ErrEmptyProjectID
	}
	colls := op.collections()
	limit := a.opts.limit
	if limit > maxBufferedDocs {
		count := func(ctx context.Context) (event.Report, error) { return a.countProject(ctx, colls, projectID) }
		if rep, err := overLimit(ctx, count, projectID, limit); err != nil {
			return rep, err
		}
		limit = 0
	}
	var held map[string]*heldRead
	if limit > 0 {
		var (
			rep event.Report
			err error
		)
		if held, rep, err = a.readWithin(ctx, projectID, op, colls, limit); err != nil {
			return rep, err
		}
	}
	return a.eachCollection(ctx, colls, func(ctx context.Context, c config.Collection) (event.CollectionReport, error) {
		r := a.inCollection(projectID, op, c)
		var (
			first pass
			err   error
		)
		if held == nil {
			first, err = r.stream(ctx, 1)
		} else {
			first, err = r.writeHeld(ctx, held[c.Name])
		}
		return r.finish(ctx, first, err)
	})
}

// collectionRun is one event applied to one collection.
type collectionRun struct {
	a         *Applier
	op        operation
	projectID string
	coll      config.Collection
	log       zerolog.Logger
}

func (a *Applier) inCollection(projectID string, op operation, coll config.Collection) *collectionRun {
	return &collectionRun{
		a: a, op: op, projectID: projectID, coll: coll,
		log: a.log.With().Str("projectId", projectID).Str("collection", coll.Name).Logger(),
	}
}

// pass is what one pass over the collection did.
type pass struct {
	rep   event.CollectionReport
	acted int  // documents written (in a dry run: that would be)
	multi bool // its reads took more than one query
}

// stream is one pass (number n, from 1) over the project's documents of the
// collection, from the start: each page is written as soon as it is read,
// up to pagesInFlight pages at once, while the reading goes on. A document
// that needs no write counts as matched in the first pass only (an
// archived document is matched once, not once per pass).
func (r *collectionRun) stream(ctx context.Context, n int) (pass, error) {
	var p pass
	pages := newInflight()
	multi, err := r.a.readPass(ctx, r.projectID, r.op, r.coll, 0, func(seen int, writes []write) error {
		if n == 1 {
			p.rep.Matched += seen
		} else {
			p.rep.Matched += len(writes)
		}
		p.acted += len(writes)
		return r.start(ctx, pages, writes)
	})
	done, err := pages.wait(err)
	addWrites(&p.rep, done)
	p.multi = multi
	return p, err
}

// writeHeld is the first pass of a limited event: it writes what
// readWithin read and held, a page at a time, pagesInFlight pages at once.
func (r *collectionRun) writeHeld(ctx context.Context, h *heldRead) (pass, error) {
	p := pass{rep: event.CollectionReport{Matched: h.matched}, acted: len(h.writes), multi: h.multi}
	pages := newInflight()
	var err error
	for start := 0; start < len(h.writes) && err == nil; start += r.a.opts.pageSize {
		err = r.start(ctx, pages, h.writes[start:min(start+r.a.opts.pageSize, len(h.writes))])
	}
	done, err := pages.wait(err)
	addWrites(&p.rep, done)
	return p, err
}

// start has the operation write one page in the background (see inflight);
// an empty page, or any page of a dry run, writes nothing.
func (r *collectionRun) start(ctx context.Context, pages *inflight, writes []write) error {
	if len(writes) == 0 || r.a.opts.dryRun {
		return nil
	}
	return pages.start(func() (event.CollectionReport, error) {
		return r.op.writePage(ctx, r.log, r.coll, writes)
	})
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
func (r *collectionRun) finish(ctx context.Context, first pass, err error) (event.CollectionReport, error) {
	rep, last := first.rep, first
	for n := 2; err == nil && r.op.repeats() && !r.a.opts.dryRun && last.multi && last.acted > 0; n++ {
		if n > r.a.opts.maxPasses {
			return rep, fmt.Errorf("documents of the project still appear after %d passes (written concurrently?)", n-1)
		}
		last, err = r.stream(ctx, n)
		rep.Matched += last.rep.Matched
		addWrites(&rep, last.rep)
	}
	if err == nil && r.a.opts.dryRun {
		line := r.a.dryLog.Info().Bool("dryRun", true).Str("projectId", r.projectID).Str("collection", r.coll.Name).
			Int("matched", rep.Matched).Int("writes", first.acted)
		r.op.logDryRun(line, r.coll)
	}
	return rep, err
}

// addWrites adds what src wrote (not what it matched) to dst.
func addWrites(dst *event.CollectionReport, src event.CollectionReport) {
	dst.Deleted += src.Deleted
	dst.Archived += src.Archived
	dst.Updated += src.Updated
}
