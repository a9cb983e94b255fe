package sync

import (
	"context"
	"fmt"
	"strings"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/internal/crashpoint"
)

// DeleteProject deletes (mode delete) or archives (mode archive) every
// document of the project in every configured collection; with recursive,
// deleting a document first deletes all its subcollections, at any depth.
// Archive mode marks matched documents only (their subcollections are kept
// as they are) and leaves documents already archived untouched, so a replay
// changes nothing. Repeating a cleanup is harmless.
func (a *Applier) DeleteProject(ctx context.Context, projectID string) (Report, error) {
	if strings.TrimSpace(projectID) == "" {
		return Report{}, ErrEmptyProjectID
	}
	rep, err := a.eachCollection(ctx, a.cfg.Collections, func(ctx context.Context, c config.Collection) (CollectionReport, error) {
		return a.cleanCollection(ctx, c, projectID)
	})
	if err != nil {
		return rep, fmt.Errorf("sync: cleaning up project %s: %w", projectID, err)
	}
	return rep, nil
}

// cleanCollection pages through the project's documents of one collection
// and deletes or archives them, page by page. Paging continues after the
// last document of the previous page, so deleted documents never shift it;
// a further pass from the start then catches documents written while the
// cleanup ran, until a pass finds nothing to do.
func (a *Applier) cleanCollection(ctx context.Context, coll config.Collection, projectID string) (CollectionReport, error) {
	archive := a.cfg.Mode == ModeArchive
	q := a.projectQuery(coll, projectID)
	if archive {
		q = q.Select(ArchivedField)
	} else {
		q = q.Select() // ids only
	}
	rep := CollectionReport{Collection: coll.Name}
	log := a.log.With().Str("projectId", projectID).Str("collection", coll.Name).Str("mode", a.cfg.Mode).Logger()
	for pass := 1; ; pass++ {
		acted := 0
		err := a.forEachPage(ctx, q, func(snaps []*firestore.DocumentSnapshot) error {
			writes := make([]write, 0, len(snaps))
			for _, s := range snaps {
				if archive && isArchived(s) {
					if pass == 1 {
						rep.Matched++
					}
					continue
				}
				rep.Matched++
				writes = append(writes, a.cleanupWrite(s.Ref))
			}
			crashpoint.Hit("mid-cleanup")
			log.Debug().Int("count", len(snaps)).Int("writes", len(writes)).Int("pass", pass).Msg("cleanup page")
			acted += len(writes)
			if !archive && coll.Recursive {
				n, err := a.deleteSubcollectionsOf(ctx, log, refsOf(writes))
				rep.Deleted += n
				if err != nil {
					return err
				}
			}
			n, err := a.commit(ctx, writes)
			if archive {
				rep.Archived += n
			} else {
				rep.Deleted += n
			}
			return err
		})
		if err != nil {
			return rep, err
		}
		if acted == 0 {
			return rep, nil
		}
		if pass == a.opts.maxPasses {
			return rep, fmt.Errorf("documents of the project still appear after %d passes (written concurrently?)", pass)
		}
	}
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
