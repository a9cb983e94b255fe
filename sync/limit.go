package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/projectwatcher/watcher/event"
)

// maxBufferedDocs is the largest per-event limit enforced by reading first:
// the read keeps one reference per document (well under a kilobyte) until
// it writes. Above it, the limit is checked with a count query per
// collection before the event is applied as without a limit.
const maxBufferedDocs = 100_000

// heldRead is what a limited event's first pass found in one collection:
// the writes the event needs there, not made yet. The limit costs no
// extra query: the event writes what this read found. An event stops
// reading (in every collection) as soon as more than limit documents were
// seen in all, and no collection reads more than limit+1 of its
// documents; it holds at most limit writes, and nothing has been written
// then.
type heldRead struct {
	writes  []write
	matched int // documents of the project seen
}

// errTooMany stops the reads of an event once it is over the limit.
var errTooMany = errors.New("more documents than the limit")

// overLimit counts the project's documents with count and returns the
// count report and an event.ErrSafetyLimit error when there are more than
// max (max <= 0: no limit, no count).
func overLimit(ctx context.Context, count func(context.Context) (event.Report, error), projectID string, max int) (event.Report, error) {
	if max <= 0 {
		return event.Report{}, nil
	}
	rep, err := count(ctx)
	if err != nil {
		return event.Report{}, fmt.Errorf("safety limit: %w", err)
	}
	if n := rep.Total(); n > max {
		return rep, fmt.Errorf("%w: project %s has %d documents (limit %d); nothing was written",
			event.ErrSafetyLimit, projectID, n, max)
	}
	return event.Report{}, nil
}
