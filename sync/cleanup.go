package sync

import (
	"context"
	"fmt"
	"strings"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/crashpoint"
	"github.com/rs/zerolog"
)

// DeleteProject deletes (mode delete) or archives (mode archive) every
// document of the project in every configured collection; with recursive,
// deleting a document first deletes all its subcollections, at any depth.
// Archive mode marks matched documents only (their subcollections are kept
// as they are) and leaves documents already archived untouched, so a replay
// changes nothing. Repeating a cleanup is harmless.
//
// With WithLimit, a project with more documents than the limit gets no
// write at all and an error wrapping event.ErrSafetyLimit; with WithDryRun
// nothing is written.
func (a *Applier) DeleteProject(ctx context.Context, projectID string) (event.Report, error) {
	if a.dry != nil {
		return a.dry.deleteProject(ctx, projectID, a.opts.limit)
	}
	return a.deleteProjectWithin(ctx, projectID, a.opts.limit)
}

// deleteProjectWithin is DeleteProject for a project of at most max
// documents (max <= 0: no limit). A project with more gets no write at all
// and an error wrapping ErrSafetyLimit. The limit costs no extra query: the
// documents are read first, then the same results are written (see
// readWithin).
func (a *Applier) deleteProjectWithin(ctx context.Context, projectID string, max int) (event.Report, error) {
	if strings.TrimSpace(projectID) == "" {
		return event.Report{}, event.ErrEmptyProjectID
	}
	rep, err := a.withinLimit(ctx, a.cfg.Collections, projectID, max, bounded{
		stream: func(ctx context.Context, c config.Collection) (event.CollectionReport, error) {
			return a.cleanCollection(ctx, c, projectID, 1)
		},
		query:   a.cleanupQuery,
		toWrite: a.cleanupWriteOf,
		apply: func(ctx context.Context, c config.Collection, r read) (event.CollectionReport, error) {
			return a.applyCleanup(ctx, c, projectID, r)
		},
	})
	if err != nil {
		return rep, fmt.Errorf("sync: cleaning up project %s: %w", projectID, err)
	}
	return rep, nil
}

// cleanupQuery selects what a cleanup needs of the project's documents in
// coll: their ids, and in archive mode whether they are archived already.
func (a *Applier) cleanupQuery(coll config.Collection, projectID string) firestore.Query {
	q := a.projectQuery(coll, projectID)
	if a.cfg.Mode == ModeArchive {
		return q.Select(ArchivedField)
	}
	return q.Select() // ids only
}

// cleanupWriteOf is the write a cleanup makes to s; none for a document
// archived already.
func (a *Applier) cleanupWriteOf(_ config.Collection, s *firestore.DocumentSnapshot) (write, bool) {
	if a.cfg.Mode == ModeArchive && isArchived(s) {
		return write{}, false
	}
	return a.cleanupWrite(s.Ref), true
}

// applyCleanup writes what readWithin found in coll, a page at a time
// (pagesInFlight at once). When the read took more than one query (a long
// cleanup), further passes then catch documents written behind its cursor
// meanwhile.
func (a *Applier) applyCleanup(ctx context.Context, coll config.Collection, projectID string, r read) (event.CollectionReport, error) {
	log := a.cleanupLog(coll, projectID)
	rep, err := a.writePages(coll, r, func(page []write) (event.CollectionReport, error) {
		return a.cleanPage(ctx, log, coll, page)
	})
	if err != nil || !r.multi || len(r.writes) == 0 {
		return rep, err
	}
	more, err := a.cleanCollection(ctx, coll, projectID, 2)
	rep.Matched += more.Matched
	rep.Deleted += more.Deleted
	rep.Archived += more.Archived
	return rep, err
}

// cleanCollection pages through the project's documents of one collection
// and deletes or archives them, page by page (pagesInFlight at once), from
// pass first on. Paging continues after the last document of the previous
// page, so deleted documents never shift it. When a pass took more than one
// query (its cursor moved while documents could be written behind it), a
// further pass from the start catches those, until a pass finds nothing to
// do. A pass that fit one query is not repeated: a second query would only
// see what was written in the milliseconds since, and documents written
// after any pass are left to reconciliation anyway.
func (a *Applier) cleanCollection(ctx context.Context, coll config.Collection, projectID string, first int) (event.CollectionReport, error) {
	q := a.cleanupQuery(coll, projectID)
	rep := event.CollectionReport{Collection: coll.Name}
	log := a.cleanupLog(coll, projectID)
	for pass := first; ; pass++ {
		acted := 0
		pages := newInflight()
		multi, err := a.forEachPage(ctx, q, func(snaps []*firestore.DocumentSnapshot) error {
			writes := make([]write, 0, len(snaps))
			for _, s := range snaps {
				w, ok := a.cleanupWriteOf(coll, s)
				if ok || pass == 1 {
					rep.Matched++ // archived documents count once
				}
				if ok {
					writes = append(writes, w)
				}
			}
			acted += len(writes)
			return pages.start(func() (event.CollectionReport, error) { return a.cleanPage(ctx, log, coll, writes) })
		})
		done, err := pages.wait(err)
		rep.Deleted += done.Deleted
		rep.Archived += done.Archived
		if err != nil {
			return rep, err
		}
		if acted == 0 || !multi {
			return rep, nil
		}
		if pass >= a.opts.maxPasses {
			return rep, fmt.Errorf("documents of the project still appear after %d passes (written concurrently?)", pass)
		}
	}
}

// cleanPage deletes or archives one page of documents (deleting their
// subcollections first when coll is recursive) and reports what it did.
func (a *Applier) cleanPage(ctx context.Context, log zerolog.Logger, coll config.Collection, writes []write) (event.CollectionReport, error) {
	var rep event.CollectionReport
	if len(writes) == 0 {
		return rep, nil
	}
	log.Debug().Int("writes", len(writes)).Msg("cleanup page")
	archive := a.cfg.Mode == ModeArchive
	if !archive && coll.Recursive {
		n, err := a.deleteSubcollectionsOf(ctx, log, refsOf(writes))
		rep.Deleted += n
		if err != nil {
			return rep, err
		}
	}
	n, err := a.commit(ctx, writes)
	if archive {
		rep.Archived += n
	} else {
		rep.Deleted += n
	}
	if err == nil {
		// A page is written; at most pagesInFlight-1 others have started.
		crashpoint.Hit("mid-cleanup")
	}
	return rep, err
}

func (a *Applier) cleanupLog(coll config.Collection, projectID string) zerolog.Logger {
	return a.log.With().Str("projectId", projectID).Str("collection", coll.Name).Str("mode", a.cfg.Mode).Logger()
}

func (a *Applier) cleanupWrite(ref *firestore.DocumentRef) write {
	if a.cfg.Mode != ModeArchive {
		return write{ref: ref}
	}
	return write{ref: ref, updates: []firestore.Update{
		{FieldPath: firestore.FieldPath{ArchivedField}, Value: true},
		{FieldPath: firestore.FieldPath{ArchivedAtField}, Value: firestore.ServerTimestamp},
	}}
}

// isArchived reports whether the document already carries archived == true.
// (A query filter archived != true would also drop documents lacking the
// field, so the check is made here.)
func isArchived(s *firestore.DocumentSnapshot) bool {
	v, err := s.DataAt(ArchivedField)
	return err == nil && v == true
}
