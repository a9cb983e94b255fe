package sync

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"google.golang.org/api/iterator"
)

// pagesPerQuery is how many pages one query streams before the next query
// continues after its last document.
const pagesPerQuery = 20

// projectQuery selects the documents of one project in a configured
// collection (every collection with that id when the collection is a group).
func (a *Applier) projectQuery(coll config.Collection, projectID string) firestore.Query {
	var q firestore.Query
	if coll.Group {
		q = a.client.CollectionGroup(coll.Name).Query
	} else {
		q = a.client.Collection(coll.Name).Query
	}
	return q.Where(a.cfg.IDField, "==", projectID)
}

// readPass reads the project's documents of coll once, from the start, and
// hands fn each page: how many documents of the project it holds and the
// writes op needs for them. atMost > 0 caps the documents read.
//
// Seam (discovery batching, issue 15): what is read depends only on the
// project id and op.fields; op's decisions come after, per document. The
// reads of several waiting events can become one query per collection
// (projectId in [...], at most 30 ids, selecting the id field as well)
// whose pages are split by projectId, each part going through its own
// event's op.writeFor and fn, so limits, writes and reports stay per event.
func (a *Applier) readPass(ctx context.Context, projectID string, op operation, coll config.Collection, atMost int,
	fn func(n int, writes []write) error) (multi bool, err error) {
	q := a.projectQuery(coll, projectID).SelectPaths(op.fields(coll)...)
	return a.forEachPage(ctx, q, atMost, func(snaps []*firestore.DocumentSnapshot) error {
		writes := make([]write, 0, len(snaps))
		for _, s := range snaps {
			if w, ok := op.writeFor(coll, s); ok {
				writes = append(writes, w)
			}
		}
		return fn(len(snaps), writes)
	})
}

// forEachPage runs q ordered by document id and calls fn with the results
// in pages of the configured size, reading at most atMost documents
// (atMost <= 0: all). One query streams pagesPerQuery pages; the next
// query starts after the last document of the previous one. The cursor is
// a position in the id order, so documents that fn deletes or changes do
// not shift later results. While fn writes a page, the stream keeps
// receiving the next one; and fewer, longer queries matter on backends
// that scan for every query (the emulator does). It reports whether the
// results took more than one query.
func (a *Applier) forEachPage(ctx context.Context, q firestore.Query, atMost int, fn func([]*firestore.DocumentSnapshot) error) (multi bool, err error) {
	q = q.OrderBy(firestore.DocumentID, firestore.Asc)
	var last *firestore.DocumentSnapshot
	read := 0
	for queries := 1; ; queries++ {
		window := a.opts.pageSize * pagesPerQuery
		if atMost > 0 {
			window = min(window, atMost-read)
		}
		query := q.Limit(window)
		if last != nil {
			query = query.StartAfter(last)
		}
		n, lastSeen, err := a.streamPages(ctx, query, fn)
		read += n
		if err != nil || n < window || (atMost > 0 && read >= atMost) {
			return queries > 1, err
		}
		last = lastSeen
	}
}

// streamPages runs one query and hands its results to fn a page at a time.
// It returns how many documents the query returned and the last of them.
//
// The query runs under the idle limit (firestore.callTimeout): it fails
// when no document arrives for that long while it waits for one (the time
// fn takes does not count).
func (a *Applier) streamPages(ctx context.Context, q firestore.Query, fn func([]*firestore.DocumentSnapshot) error) (int, *firestore.DocumentSnapshot, error) {
	idle := a.limit.Stream(ctx)
	defer idle.Stop()
	it := q.Documents(idle.Context())
	defer it.Stop()
	page := make([]*firestore.DocumentSnapshot, 0, a.opts.pageSize)
	n := 0
	var last *firestore.DocumentSnapshot
	for {
		s, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			err = idle.Err(err)
			return n, last, fmt.Errorf("querying a page: %w", err)
		}
		idle.Touch()
		n++
		last = s
		page = append(page, s)
		if len(page) == a.opts.pageSize {
			idle.Pause()
			if err := fn(page); err != nil {
				return n, last, err
			}
			idle.Touch()
			page = make([]*firestore.DocumentSnapshot, 0, a.opts.pageSize)
		}
	}
	idle.Pause()
	if len(page) > 0 {
		if err := fn(page); err != nil {
			return n, last, err
		}
	}
	return n, last, nil
}
