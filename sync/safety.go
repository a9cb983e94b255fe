package sync

import (
	"context"
	"fmt"

	"github.com/projectwatcher/watcher/event"
)

// overLimit counts the project's documents with count and returns the
// count report and an event.ErrSafetyLimit error when there are more than
// max (max <= 0: no limit, no count).
func overLimit(ctx context.Context, count func(context.Context, string) (event.Report, error), projectID string, max int) (event.Report, error) {
	if max <= 0 {
		return event.Report{}, nil
	}
	rep, err := count(ctx, projectID)
	if err != nil {
		return event.Report{}, fmt.Errorf("safety limit: %w", err)
	}
	if n := rep.Total(); n > max {
		return rep, fmt.Errorf("%w: project %s has %d documents (limit %d); nothing was written",
			event.ErrSafetyLimit, projectID, n, max)
	}
	return event.Report{}, nil
}
