package sync

import (
	"context"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/crashpoint"
	"github.com/rs/zerolog"
)

// deleteProject deletes (mode delete) or archives (mode archive) every
// document of the project in every configured collection; with recursive,
// deleting a document first deletes all its subcollections, at any depth.
// Archive mode marks matched documents only (their subcollections are kept
// as they are) and leaves documents already archived untouched, so a replay
// changes nothing. Repeating a cleanup is harmless.
func (a *Applier) deleteProject(ctx context.Context, projectID string) (event.Report, error) {
	return a.deleteCreatedBy(ctx, projectID, time.Time{})
}

// deleteCreatedBy is deleteProject for the documents Firestore created at
// or before createdBy (zero: every document): the project's id exists
// again, and the documents of the new project stay. The subtree of a
// document it deletes goes with it.
func (a *Applier) deleteCreatedBy(ctx context.Context, projectID string, createdBy time.Time) (event.Report, error) {
	op := a.cleanupOf(createdBy)
	rep, err := a.run(ctx, projectID, op)
	return rep, failed(op, projectID, err)
}

// cleanupOf is the cleanup of a ProjectDeleted event (createdBy: its
// Event.CreatedBy).
func (a *Applier) cleanupOf(createdBy time.Time) cleanup {
	return cleanup{a: a, archive: a.cfg.Mode == ModeArchive, createdBy: createdBy}
}

// cleanup is the operation of a ProjectDeleted event.
type cleanup struct {
	a         *Applier
	archive   bool      // mode archive: mark the documents instead of deleting them
	createdBy time.Time // non-zero: only documents created at or before it
}

func (c cleanup) collections() []config.Collection { return c.a.cfg.Collections }

// fields: a cleanup needs the documents' ids, and in archive mode whether
// they are archived already.
func (c cleanup) fields(config.Collection) []firestore.FieldPath {
	if c.archive {
		return []firestore.FieldPath{{ArchivedField}}
	}
	return nil
}

// writeFor is the delete or the archiving of s; none for a document
// archived already, nor for one created after createdBy (it belongs to the
// project that has the id now; every snapshot carries its create time).
func (c cleanup) writeFor(_ config.Collection, s *firestore.DocumentSnapshot) (write, bool) {
	if !c.createdBy.IsZero() && s.CreateTime.After(c.createdBy) {
		return write{}, false
	}
	if !c.archive {
		return write{ref: s.Ref}, true
	}
	if isArchived(s) {
		return write{}, false
	}
	return archiveWrite(s.Ref), true
}

// archiveWrite marks ref archived, with the server's time.
func archiveWrite(ref *firestore.DocumentRef) write {
	return write{ref: ref, updates: []firestore.Update{
		{FieldPath: firestore.FieldPath{ArchivedField}, Value: true},
		{FieldPath: firestore.FieldPath{archivedAtField}, Value: firestore.ServerTimestamp},
	}}
}

// writePage deletes or archives one page of documents and reports what it
// did. When coll is recursive, the documents below them get the same first
// (deleted, deepest first; or archived): archive mode covers exactly the
// documents delete mode would remove.
func (c cleanup) writePage(ctx context.Context, log zerolog.Logger, coll config.Collection, writes []write) (event.CollectionReport, error) {
	var rep event.CollectionReport
	log.Debug().Str("mode", c.a.cfg.Mode).Int("writes", len(writes)).Msg("cleanup page")
	if c.recursive(coll) {
		var (
			n   int
			err error
		)
		if c.archive {
			n, err = c.a.archiveSubcollectionsOf(ctx, log, refsOf(writes))
			rep.Archived += n
		} else {
			n, err = c.a.deleteSubcollectionsOf(ctx, log, refsOf(writes))
			rep.Deleted += n
		}
		if err != nil {
			return rep, err
		}
	}
	n, err := c.a.commit(ctx, writes)
	if c.archive {
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

func (cleanup) action() string { return "cleaning up" }

// repeats: a cleanup's cursor moves on while it deletes, so documents
// written behind it meanwhile need another pass.
func (cleanup) repeats() bool { return true }

func (c cleanup) logDryRun(line *zerolog.Event, coll config.Collection) {
	action := ModeDelete
	if c.archive {
		action = ModeArchive
	}
	line.Str("action", action).Bool("recursive", c.recursive(coll)).
		Msg("dry run: would clean up the project's documents; nothing written")
}

// recursive tells whether deleting a document of coll deletes its
// subcollections (never in archive mode).
func (c cleanup) recursive(coll config.Collection) bool { return coll.Recursive }

// isArchived reports whether the document already carries archived == true.
// (A query filter archived != true would also drop documents lacking the
// field, so the check is made here.)
func isArchived(s *firestore.DocumentSnapshot) bool {
	v, err := s.DataAt(ArchivedField)
	return err == nil && v == true
}
