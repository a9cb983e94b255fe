package sync

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/fscall"
	"github.com/rs/zerolog"
	"google.golang.org/api/iterator"
)

// archiveSubcollectionsOf archives every document below each of refs, at
// any depth: the documents delete mode would delete with them. Each gets
// archived=true and archivedAt once (a document archived already is left
// as it is, so a replay changes nothing). It returns how many documents it
// marked.
func (a *Applier) archiveSubcollectionsOf(ctx context.Context, log zerolog.Logger, refs []*firestore.DocumentRef) (int, error) {
	return eachDocument(refs, func(doc *firestore.DocumentRef) (int, error) {
		return a.eachSubcollection(ctx, doc, func(c *firestore.CollectionRef) (int, error) {
			return a.archiveCollectionTree(ctx, log, c)
		})
	})
}

// archiveCollectionTree archives one subcollection a page at a time, then
// what lies below each of its documents. The listing names documents that
// do not exist themselves but have subcollections: those are not written,
// but walked.
func (a *Applier) archiveCollectionTree(ctx context.Context, log zerolog.Logger, coll *firestore.CollectionRef) (int, error) {
	total := 0
	err := a.eachRefPage(ctx, coll, func(refs []*firestore.DocumentRef) error {
		writes, err := a.unarchived(ctx, refs)
		if err != nil {
			return err
		}
		log.Debug().Str("subcollection", coll.Path).Int("count", len(refs)).Int("writes", len(writes)).Msg("archive subcollection page")
		n, err := a.commit(ctx, writes)
		total += n
		if err != nil {
			return err
		}
		n, err = a.archiveSubcollectionsOf(ctx, log, refs)
		total += n
		return err
	})
	return total, err
}

// unarchived reads refs (one batch read, under firestore.callTimeout) and
// returns the archiving writes of those that exist and are not archived.
func (a *Applier) unarchived(ctx context.Context, refs []*firestore.DocumentRef) ([]write, error) {
	callCtx, cancel := a.limit.Unary(ctx)
	defer cancel()
	snaps, err := a.client.GetAll(callCtx, refs)
	if err != nil {
		return nil, fmt.Errorf("reading %d documents: %w", len(refs), fscall.Err(callCtx, err))
	}
	var writes []write
	for _, s := range snaps {
		if s.Exists() && !isArchived(s) {
			writes = append(writes, archiveWrite(s.Ref))
		}
	}
	return writes, nil
}

// eachRefPage lists every document reference of coll (missing documents
// included) and calls fn with them a page at a time, under the idle limit.
func (a *Applier) eachRefPage(ctx context.Context, coll *firestore.CollectionRef, fn func([]*firestore.DocumentRef) error) error {
	idle := a.limit.Stream(ctx)
	defer idle.Stop()
	it := coll.DocumentRefs(idle.Context())
	it.PageInfo().MaxSize = a.opts.pageSize
	page := make([]*firestore.DocumentRef, 0, a.opts.pageSize)
	for {
		ref, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return fmt.Errorf("listing %s: %w", coll.Path, idle.Err(err))
		}
		idle.Touch()
		if page = append(page, ref); len(page) == a.opts.pageSize {
			idle.Pause()
			if err := fn(page); err != nil {
				return err
			}
			idle.Touch()
			page = make([]*firestore.DocumentRef, 0, a.opts.pageSize)
		}
	}
	if len(page) == 0 {
		return nil
	}
	return fn(page)
}
