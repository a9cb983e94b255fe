package sync

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"cloud.google.com/go/firestore"
	"github.com/rs/zerolog"
	"google.golang.org/api/iterator"
)

// deleteSubcollectionsOf deletes the subcollections of every document of
// a page (deepest first, so an interrupted run never leaves documents whose
// parent, the only one carrying the project id, is already gone). It
// returns how many documents it deleted and every error.
func (a *Applier) deleteSubcollectionsOf(ctx context.Context, log zerolog.Logger, refs []*firestore.DocumentRef) (int, error) {
	return eachDocument(refs, func(doc *firestore.DocumentRef) (int, error) {
		return a.eachSubcollection(ctx, doc, func(c *firestore.CollectionRef) (int, error) {
			return a.deleteCollectionTree(ctx, log, c)
		})
	})
}

// eachDocument runs fn for every document of refs, up to
// subcollectionConcurrency at a time: listing a document's subcollections
// is one round trip per document, so doing them one after another makes
// the round-trip time, not Firestore's write rate, the limit. It returns
// the sum of what fn counted and every error.
func eachDocument(refs []*firestore.DocumentRef, fn func(*firestore.DocumentRef) (int, error)) (int, error) {
	var (
		total atomic.Int64
		mu    sync.Mutex
		errs  []error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, subcollectionConcurrency)
	for _, ref := range refs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			n, err := fn(ref)
			total.Add(int64(n))
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return int(total.Load()), errors.Join(errs...)
}

// eachSubcollection runs fn on every subcollection of doc, one after the
// other, and returns the sum of what it counted (stopping at an error).
func (a *Applier) eachSubcollection(ctx context.Context, doc *firestore.DocumentRef, fn func(*firestore.CollectionRef) (int, error)) (int, error) {
	colls, err := a.subcollections(ctx, doc)
	if err != nil {
		return 0, fmt.Errorf("listing subcollections of %s: %w", doc.Path, err)
	}
	total := 0
	for _, c := range colls {
		n, err := fn(c)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// deleteCollectionTree empties one subcollection, a page at a time. Each
// round lists from the start again: the listing also names documents that
// do not exist themselves but have subcollections, and such a document only
// leaves the listing once everything under it is gone.
func (a *Applier) deleteCollectionTree(ctx context.Context, log zerolog.Logger, coll *firestore.CollectionRef) (int, error) {
	total := 0
	previous := map[string]bool{}
	for {
		refs, err := a.firstRefs(ctx, coll)
		if err != nil {
			return total, err
		}
		if len(refs) == 0 {
			return total, nil
		}
		writes := make([]write, 0, len(refs))
		current := make(map[string]bool, len(refs))
		stuck := true
		for _, ref := range refs {
			current[ref.Path] = true
			stuck = stuck && previous[ref.Path]
			writes = append(writes, write{ref: ref})
		}
		if stuck {
			return total, fmt.Errorf("subcollection %s: documents remain after being deleted", coll.Path)
		}
		n, err := a.deleteSubcollectionsOf(ctx, log, refs)
		total += n
		if err != nil {
			return total, err
		}
		log.Debug().Str("subcollection", coll.Path).Int("count", len(refs)).Msg("subcollection page")
		n, err = a.commit(ctx, writes)
		total += n
		if err != nil {
			return total, err
		}
		if len(refs) < a.opts.pageSize {
			// The listing was complete and everything in it, subtrees
			// included, is deleted: listing again would find nothing
			// (what is written meanwhile is a later pass's business).
			return total, nil
		}
		previous = current
	}
}

// firstRefs lists up to a page of document references of coll, missing
// documents included.
// The listing runs under the idle limit (firestore.callTimeout).
func (a *Applier) firstRefs(ctx context.Context, coll *firestore.CollectionRef) ([]*firestore.DocumentRef, error) {
	idle := a.limit.Stream(ctx)
	defer idle.Stop()
	it := coll.DocumentRefs(idle.Context())
	it.PageInfo().MaxSize = a.opts.pageSize
	refs := make([]*firestore.DocumentRef, 0, a.opts.pageSize)
	for len(refs) < a.opts.pageSize {
		ref, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			err = idle.Err(err)
			return refs, fmt.Errorf("listing %s: %w", coll.Path, err)
		}
		idle.Touch()
		refs = append(refs, ref)
	}
	return refs, nil
}

// subcollections lists the subcollections of doc, under the idle limit
// (firestore.callTimeout).
func (a *Applier) subcollections(ctx context.Context, doc *firestore.DocumentRef) ([]*firestore.CollectionRef, error) {
	idle := a.limit.Stream(ctx)
	defer idle.Stop()
	it := doc.Collections(idle.Context())
	var colls []*firestore.CollectionRef
	for {
		c, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return colls, nil
		}
		if err != nil {
			return nil, idle.Err(err)
		}
		idle.Touch()
		colls = append(colls, c)
	}
}
