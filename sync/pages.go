package sync

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
)

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

// forEachPage runs q ordered by document id in pages of the configured size,
// each page starting after the last document of the previous one, and calls
// fn with every non-empty page. The cursor is a position in the id order, so
// documents that fn deletes or changes do not shift later pages; that is why
// the next page is queried while fn still writes the current one.
func (a *Applier) forEachPage(ctx context.Context, q firestore.Query, fn func([]*firestore.DocumentSnapshot) error) error {
	q = q.OrderBy(firestore.DocumentID, firestore.Asc).Limit(a.opts.pageSize)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops a prefetch nobody will read
	snaps, err := q.Documents(ctx).GetAll()
	for {
		a.record(ctx, err)
		if err != nil {
			return fmt.Errorf("querying a page: %w", err)
		}
		if len(snaps) == 0 {
			return nil
		}
		var next <-chan pageResult
		if len(snaps) == a.opts.pageSize {
			next = a.prefetch(ctx, q.StartAfter(snaps[len(snaps)-1]))
		}
		if err := fn(snaps); err != nil {
			return err
		}
		if next == nil {
			return nil
		}
		r := <-next
		snaps, err = r.snaps, r.err
	}
}

// pageResult is a page queried ahead of time.
type pageResult struct {
	snaps []*firestore.DocumentSnapshot
	err   error
}

// prefetch runs page in the background; the channel delivers its result.
func (a *Applier) prefetch(ctx context.Context, page firestore.Query) <-chan pageResult {
	ch := make(chan pageResult, 1)
	go func() {
		snaps, err := page.Documents(ctx).GetAll()
		ch <- pageResult{snaps: snaps, err: err}
	}()
	return ch
}
