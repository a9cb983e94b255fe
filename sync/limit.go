package sync

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
)

// maxBufferedDocs is the largest per-event limit enforced by reading first:
// the read keeps one reference per document (well under a kilobyte) until
// it writes. Above it, the limit is checked with a count query per
// collection before the event is applied as without a limit.
const maxBufferedDocs = 100_000

// heldRead is what readWithin found in one collection: the writes the
// event needs there, not made yet.
type heldRead struct {
	writes  []write
	matched int  // documents of the project seen
	multi   bool // the results took more than one query
}

// errTooMany stops the reads of the other collections once the limit is
// passed.
var errTooMany = errors.New("more documents than the limit")

// readWithin reads the project's documents of every collection in colls
// (at the same time, as eachCollection runs them) and holds the writes op
// needs. It stops every read as soon as more than limit documents were
// seen in all, and no collection reads more than limit+1; nothing has been
// written then. The limit costs no extra query: the event writes what
// this read found.
func (a *Applier) readWithin(ctx context.Context, projectID string, op operation, colls []config.Collection, limit int) (map[string]*heldRead, event.Report, error) {
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var seen atomic.Int64
	reads := make(map[string]*heldRead, len(colls))
	for _, c := range colls {
		reads[c.Name] = &heldRead{}
	}
	rep, err := a.eachCollection(readCtx, colls, func(ctx context.Context, c config.Collection) (event.CollectionReport, error) {
		h := reads[c.Name]
		multi, err := a.readPass(ctx, projectID, op, c, limit+1, func(n int, writes []write) error {
			h.matched += n
			if seen.Add(int64(n)) > int64(limit) {
				cancel()
				return errTooMany
			}
			h.writes = append(h.writes, writes...)
			return nil
		})
		h.multi = multi
		return event.CollectionReport{Matched: h.matched}, err
	})
	if n := seen.Load(); n > int64(limit) {
		return nil, rep, fmt.Errorf("%w: project %s has more than %d documents (%d seen before stopping); nothing was written",
			event.ErrSafetyLimit, projectID, limit, n)
	}
	if err != nil {
		return nil, rep, err
	}
	return reads, rep, nil
}

// overLimit counts the project's documents with count and returns the
// count report and an event.ErrSafetyLimit error when there are more than
// max (max <= 0: no limit, no count).
func overLimit(ctx context.Context, count func(context.Context) (event.Report, error), projectID string, max int) (event.Report, error) {
	if max <= 0 {
		return event.Report{}, nil
	}
	rep, err := count(ctx)
	if err != nil {
		return event.Report{}, fmt.Errorf("safety limit: %w", err)
	}
	if n := rep.Total(); n > max {
		return rep, fmt.Errorf("%w: project %s has %d documents (limit %d); nothing was written",
			event.ErrSafetyLimit, projectID, n, max)
	}
	return event.Report{}, nil
}
