package sync

import (
	"context"
	"fmt"

	"github.com/projectwatcher/watcher/event"
)

// ProjectApplier is what the safety limit and the dry run wrap (*Applier,
// or another decorator).
type ProjectApplier interface {
	DeleteProject(ctx context.Context, projectID string) (event.Report, error)
	UpdateProject(ctx context.Context, projectID string, set map[string]any, unset []string) (event.Report, error)
	CountProject(ctx context.Context, projectID string) (event.Report, error)
}

// BoundedApplier applies an event only to a project of at most max
// documents (max <= 0: no limit); over it, it writes nothing and returns an
// error wrapping ErrSafetyLimit. *Applier enforces the limit with the reads
// the event makes anyway; DryRun counts.
type BoundedApplier interface {
	ProjectApplier
	DeleteProjectWithin(ctx context.Context, projectID string, max int) (event.Report, error)
	UpdateProjectWithin(ctx context.Context, projectID string, set map[string]any, unset []string, max int) (event.Report, error)
}

var (
	_ BoundedApplier = (*Applier)(nil)
	_ BoundedApplier = (*DryRun)(nil)
)

// Limited is the decorator of safety.maxDocsPerEvent: every event goes
// through the wrapped applier with that limit; one that would touch more
// of the project's documents writes nothing and fails with ErrSafetyLimit
// (the watcher dead-letters it; "watcher dlq retry ID --force" applies it
// through the undecorated applier).
//
// The limit counts the project's documents in the collections the event
// reaches (for an update, those its changed fields are copied to).
// Documents written while the event is applied are not counted: the limit
// guards against mass changes, it is not a transaction.
type Limited struct {
	next BoundedApplier
	max  int
}

var _ ProjectApplier = (*Limited)(nil)

// NewLimited wraps next with a limit of max documents per event; max <= 0
// means no limit.
func NewLimited(next BoundedApplier, max int) *Limited {
	return &Limited{next: next, max: max}
}

// DeleteProject implements ProjectApplier.
func (l *Limited) DeleteProject(ctx context.Context, projectID string) (event.Report, error) {
	return l.next.DeleteProjectWithin(ctx, projectID, l.max)
}

// UpdateProject implements ProjectApplier.
func (l *Limited) UpdateProject(ctx context.Context, projectID string, set map[string]any, unset []string) (event.Report, error) {
	return l.next.UpdateProjectWithin(ctx, projectID, set, unset, l.max)
}

// CountProject implements ProjectApplier.
func (l *Limited) CountProject(ctx context.Context, projectID string) (event.Report, error) {
	return l.next.CountProject(ctx, projectID)
}

// counter counts a project's documents (CountProject).
type counter interface {
	CountProject(ctx context.Context, projectID string) (event.Report, error)
}

// overLimit counts the project's documents with c and returns the count
// report and an ErrSafetyLimit error when there are more than max (max <= 0:
// no limit, no count).
func overLimit(ctx context.Context, c counter, projectID string, max int) (event.Report, error) {
	if max <= 0 {
		return event.Report{}, nil
	}
	rep, err := c.CountProject(ctx, projectID)
	if err != nil {
		return event.Report{}, fmt.Errorf("safety limit: %w", err)
	}
	if n := rep.Total(); n > max {
		return rep, fmt.Errorf("%w: project %s has %d documents (limit %d); nothing was written",
			event.ErrSafetyLimit, projectID, n, max)
	}
	return event.Report{}, nil
}
