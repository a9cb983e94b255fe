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

// maxBatchIDs is how many projects one discovery query names at most:
// Firestore's limit of values in an `in` filter.
const maxBatchIDs = 30

// collectionQuery is the query of a configured collection (every
// collection with that id when the collection is a group).
func (a *Applier) collectionQuery(coll config.Collection) firestore.Query {
	if coll.Group {
		return a.client.CollectionGroup(coll.Name).Query
	}
	return a.client.Collection(coll.Name).Query
}

// projectQuery selects the documents of one project in a configured
// collection.
func (a *Applier) projectQuery(coll config.Collection, projectID string) firestore.Query {
	return a.collectionQuery(coll).Where(a.cfg.IDField, "==", projectID)
}

// discoveryQuery selects the documents of the projects ids in coll with
// fields: one project is an equality (`==`), several an `in` that selects
// the id field as well, so that each document can be given to its
// project. An empty id never gets here (run refuses it first).
func (a *Applier) discoveryQuery(coll config.Collection, ids []string, fields []firestore.FieldPath) firestore.Query {
	if len(ids) == 1 {
		return a.projectQuery(coll, ids[0]).SelectPaths(fields...)
	}
	values := make([]any, len(ids))
	for i, id := range ids {
		values[i] = id
	}
	paths := append(append(make([]firestore.FieldPath, 0, len(fields)+1), fields...), a.idPath)
	return a.collectionQuery(coll).Where(a.cfg.IDField, "in", values).SelectPaths(paths...)
}

// idPath is the id field as a field path.
func idPath(cfg config.Sync) firestore.FieldPath { return config.SplitFieldPath(cfg.IDField) }

// queryResult is what one query of a read returned.
type queryResult struct {
	n         int                         // documents received
	last      *firestore.DocumentSnapshot // the last of them
	exhausted bool                        // the query returned everything it was asked for
}

// streamPages runs one query and hands its results to fn a page at a time.
// It returns how many documents the query returned, the last of them, and
// whether the query was read to its end (fn's error stops it before).
//
// The query runs under the idle limit (firestore.callTimeout): it fails
// when no document arrives for that long while it waits for one (the time
// fn takes does not count).
func (a *Applier) streamPages(ctx context.Context, q firestore.Query, fn func([]*firestore.DocumentSnapshot) error) (queryResult, error) {
	idle := a.limit.Stream(ctx)
	defer idle.Stop()
	it := q.Documents(idle.Context())
	defer it.Stop()
	page := make([]*firestore.DocumentSnapshot, 0, a.opts.pageSize)
	var r queryResult
	for {
		s, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			err = idle.Err(err)
			return r, fmt.Errorf("querying a page: %w", err)
		}
		idle.Touch()
		r.n++
		r.last = s
		page = append(page, s)
		if len(page) == a.opts.pageSize {
			idle.Pause()
			if err := fn(page); err != nil {
				return r, err
			}
			idle.Touch()
			page = make([]*firestore.DocumentSnapshot, 0, a.opts.pageSize)
		}
	}
	idle.Pause()
	r.exhausted = true
	if len(page) > 0 {
		if err := fn(page); err != nil {
			return r, err
		}
	}
	return r, nil
}
