package watcher

import (
	"context"
	"fmt"

	"github.com/projectwatcher/watcher/event"
)

// Prepare reads what ev needs of its project before it is applied: the
// values of its lookups, then the existence rules (a live project with the
// other form of the id: an error wrapping event.ErrProjectExists; a delete
// whose id exists again: ev.CreatedBy). Every path that applies an event
// goes through it: the stream's workers, reconciliation's repairs and
// "watcher dlq retry".
func Prepare(ctx context.Context, r ProjectReader, ev *event.Event) error {
	if len(ev.Lookup) > 0 {
		if err := r.Resolve(ctx, ev); err != nil {
			return fmt.Errorf("resolve fields of project %s: %w", ev.ProjectID, err)
		}
	}
	if err := r.Check(ctx, ev); err != nil {
		return fmt.Errorf("check project %s: %w", ev.ProjectID, err)
	}
	return nil
}
