package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cloud.google.com/go/firestore"
	pb "cloud.google.com/go/firestore/apiv1/firestorepb"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/fscall"
	fssync "github.com/projectwatcher/watcher/sync"
	"golang.org/x/time/rate"
	"google.golang.org/api/iterator"
)

// scanner pages through whole asset collections.
type scanner struct {
	client   *firestore.Client
	idField  firestore.FieldPath
	archive  bool
	pageSize int
	limiter  *rate.Limiter // pages; nil: no limit
	call     fscall.Limit  // firestore.callTimeout of every call
}

// query is the collection (or collection group) coll.
func (s *scanner) query(coll config.Collection) firestore.Query {
	if coll.Group {
		return s.client.CollectionGroup(coll.Name).Query
	}
	return s.client.Collection(coll.Name).Query
}

// count returns how many documents the collection holds (one aggregation
// query: for progress reports).
func (s *scanner) count(ctx context.Context, coll config.Collection) (int, error) {
	q := s.query(coll)
	callCtx, cancel := s.call.Unary(ctx)
	defer cancel()
	res, err := q.NewAggregationQuery().WithCount("n").Get(callCtx)
	if err = fscall.Err(callCtx, err); err != nil {
		return 0, fmt.Errorf("counting %s: %w", coll.Name, err)
	}
	v, ok := res["n"].(*pb.Value)
	if !ok {
		return 0, fmt.Errorf("counting %s: unexpected result %T", coll.Name, res["n"])
	}
	return int(v.GetIntegerValue()), nil
}

// scan reads every document of coll in pages ordered by document id,
// selecting only the id field, the copied target fields (and archived in
// archive mode), and calls fn with each page. A page starts after the last
// document of the previous one, so documents that fn deletes do not shift
// the scan.
func (s *scanner) scan(ctx context.Context, coll config.Collection, targets []Target, fn func([]Doc) error) error {
	paths := []firestore.FieldPath{s.idField}
	for _, t := range targets {
		paths = append(paths, firestore.FieldPath(t.Path))
	}
	if s.archive {
		paths = append(paths, firestore.FieldPath{fssync.ArchivedField})
	}
	q := s.query(coll).SelectPaths(paths...).OrderBy(firestore.DocumentID, firestore.Asc).Limit(s.pageSize)
	var last *firestore.DocumentSnapshot
	for {
		if s.limiter != nil {
			if err := s.limiter.Wait(ctx); err != nil {
				return fmt.Errorf("scanning %s: %w", coll.Name, err)
			}
		}
		page := q
		if last != nil {
			page = q.StartAfter(last)
		}
		snaps, err := s.page(ctx, page)
		if err != nil {
			return fmt.Errorf("scanning %s: %w", coll.Name, err)
		}
		if len(snaps) == 0 {
			return nil
		}
		docs := make([]Doc, len(snaps))
		for i, snap := range snaps {
			docs[i] = s.doc(snap, targets)
		}
		if err := fn(docs); err != nil {
			return err
		}
		if len(snaps) < s.pageSize {
			return nil
		}
		last = snaps[len(snaps)-1]
	}
}

// page reads the documents of one page query, under the idle limit
// (firestore.callTimeout: no document for that long fails the page).
func (s *scanner) page(ctx context.Context, q firestore.Query) ([]*firestore.DocumentSnapshot, error) {
	idle := s.call.Stream(ctx)
	defer idle.Stop()
	it := q.Documents(idle.Context())
	defer it.Stop()
	snaps := make([]*firestore.DocumentSnapshot, 0, s.pageSize)
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return snaps, nil
		}
		if err != nil {
			return nil, idle.Err(err)
		}
		idle.Touch()
		snaps = append(snaps, snap)
	}
}

// doc reads what reconciliation needs from a snapshot.
func (s *scanner) doc(snap *firestore.DocumentSnapshot, targets []Target) Doc {
	d := Doc{Path: relPath(snap.Ref)}
	if v, err := snap.DataAtPath(s.idField); err == nil {
		d.HasID, d.ProjectID = true, v
	}
	if s.archive {
		if v, err := snap.DataAtPath(firestore.FieldPath{fssync.ArchivedField}); err == nil && v == true {
			d.Archived = true
		}
	}
	for _, t := range targets {
		if v, err := snap.DataAtPath(firestore.FieldPath(t.Path)); err == nil {
			if d.Copies == nil {
				d.Copies = make(map[string]any, len(targets))
			}
			d.Copies[t.Source] = v
		}
	}
	return d
}

// relPath is a document's path inside its database ("aiAnalyses/x").
func relPath(ref *firestore.DocumentRef) string {
	if _, rest, ok := strings.Cut(ref.Path, "/documents/"); ok {
		return rest
	}
	return ref.Path
}
