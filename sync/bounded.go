package sync

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
)

// maxBufferedDocs is the largest per-event limit enforced by reading first:
// the read keeps one reference per document (well under a kilobyte) until
// it writes. Above it, the limit is checked with a count query per
// collection before the event is applied as without a limit.
const maxBufferedDocs = 100_000

// bounded is how one kind of event is applied, with and without a limit.
type bounded struct {
	// stream applies the event to one collection without a limit, writing
	// each page as soon as it is read.
	stream func(context.Context, config.Collection) (event.CollectionReport, error)
	// query selects what the event needs of the project's documents.
	query func(config.Collection, string) firestore.Query
	// toWrite is the write the event makes to one document (false: none).
	toWrite func(config.Collection, *firestore.DocumentSnapshot) (write, bool)
	// apply writes what the read found in one collection.
	apply func(context.Context, config.Collection, read) (event.CollectionReport, error)
}

// read is what readWithin found in one collection.
type read struct {
	writes  []write
	matched int  // documents of the project seen
	multi   bool // the results took more than one query
}

// withinLimit applies an event to colls for a project of at most max
// documents in them (max <= 0: no limit; more: no write at all, an error
// wrapping ErrSafetyLimit).
func (a *Applier) withinLimit(ctx context.Context, colls []config.Collection, projectID string, max int, b bounded) (event.Report, error) {
	if max > maxBufferedDocs {
		if rep, err := overLimit(ctx, a.CountProject, projectID, max); err != nil {
			return rep, err
		}
		max = 0
	}
	if max <= 0 {
		return a.eachCollection(ctx, colls, b.stream)
	}
	reads, rep, err := a.readWithin(ctx, colls, projectID, max, b)
	if err != nil {
		return rep, err
	}
	return a.eachCollection(ctx, colls, func(ctx context.Context, c config.Collection) (event.CollectionReport, error) {
		return b.apply(ctx, c, reads[c.Name])
	})
}

// errTooMany stops the reads of the other collections once the limit is
// passed.
var errTooMany = errors.New("more documents than the limit")

// readWithin reads the project's documents of every collection (at the
// same time, as eachCollection runs them) and keeps the writes they need.
// It stops every read as soon as more than max documents were seen in all;
// nothing has been written then.
func (a *Applier) readWithin(ctx context.Context, colls []config.Collection, projectID string, max int, b bounded) (map[string]read, event.Report, error) {
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var seen atomic.Int64
	reads := make(map[string]*read, len(colls))
	for _, c := range colls {
		reads[c.Name] = &read{}
	}
	rep, err := a.eachCollection(readCtx, colls, func(ctx context.Context, c config.Collection) (event.CollectionReport, error) {
		r := reads[c.Name]
		multi, err := a.forEachPage(ctx, b.query(c, projectID), func(snaps []*firestore.DocumentSnapshot) error {
			r.matched += len(snaps)
			if seen.Add(int64(len(snaps))) > int64(max) {
				cancel()
				return errTooMany
			}
			for _, s := range snaps {
				if w, ok := b.toWrite(c, s); ok {
					r.writes = append(r.writes, w)
				}
			}
			return nil
		})
		r.multi = multi
		return event.CollectionReport{Matched: r.matched}, err
	})
	if n := seen.Load(); n > int64(max) {
		return nil, rep, fmt.Errorf("%w: project %s has more than %d documents (%d seen before stopping); nothing was written",
			event.ErrSafetyLimit, projectID, max, n)
	}
	if err != nil {
		return nil, rep, err
	}
	out := make(map[string]read, len(reads))
	for name, r := range reads {
		out[name] = *r
	}
	return out, rep, nil
}
