package sync

import (
	"context"
	"strings"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/rs/zerolog"
)

// operation is what one kind of event does to the project's documents: a
// cleanup (cleanup.go) or a propagation of copied fields (propagate.go).
// run carries every operation out the same way; an operation only says
// what it reads, which write a document needs and how a page is written.
type operation interface {
	// collections lists the configured collections the event reaches.
	collections() []config.Collection
	// fields lists what the event reads of each document of coll (none:
	// the document ids only).
	fields(coll config.Collection) []firestore.FieldPath
	// writeFor is the write s needs; false when it needs none (it holds
	// the event's effect already).
	writeFor(coll config.Collection, s *firestore.DocumentSnapshot) (write, bool)
	// writePage makes one page of writes and reports what it did.
	writePage(ctx context.Context, log zerolog.Logger, coll config.Collection, writes []write) (event.CollectionReport, error)
	// repeats tells whether a pass that took several queries and wrote is
	// followed by another from the start (see collectionRun.finish).
	repeats() bool
	// logDryRun completes a dry run's log line for coll (it names the
	// project, the collection and the documents matched) with what the
	// event would change, and sends it.
	logDryRun(line *zerolog.Event, coll config.Collection)
	// action names the operation in errors ("cleaning up", "updating").
	action() string
}

// run applies op to the project's documents in op's collections: a
// group of one (see runGroup), read with equality queries.
func (a *Applier) run(ctx context.Context, projectID string, op operation) (event.Report, error) {
	if strings.TrimSpace(projectID) == "" {
		// Apply refuses it first; this is the one way to a query.
		return event.Report{}, event.ErrEmptyProjectID
	}
	m := &member{projectID: projectID, op: op}
	a.runGroup(ctx, []*member{m}, a.pageBudget())
	return m.rep, m.err
}
