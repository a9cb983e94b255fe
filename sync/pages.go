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
// documents that fn deletes or changes do not shift later pages.
func (a *Applier) forEachPage(ctx context.Context, q firestore.Query, fn func([]*firestore.DocumentSnapshot) error) error {
	q = q.OrderBy(firestore.DocumentID, firestore.Asc).Limit(a.opts.pageSize)
	var last *firestore.DocumentSnapshot
	for {
		page := q
		if last != nil {
			page = q.StartAfter(last)
		}
		snaps, err := page.Documents(ctx).GetAll()
		a.record(ctx, err)
		if err != nil {
			return fmt.Errorf("querying a page: %w", err)
		}
		if len(snaps) == 0 {
			return nil
		}
		if err := fn(snaps); err != nil {
			return err
		}
		if len(snaps) < a.opts.pageSize {
			return nil
		}
		last = snaps[len(snaps)-1]
	}
}
