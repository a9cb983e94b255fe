package sync

import (
	"context"
	"errors"
	"fmt"
)

// ErrSafetyLimit marks an event that would touch more documents than
// safety.maxDocsPerEvent: nothing was written; a human decides.
var ErrSafetyLimit = errors.New("safety limit: the event would touch more documents than safety.maxDocsPerEvent")

// ProjectApplier is what the safety limit and the dry run wrap (*Applier,
// or another decorator).
type ProjectApplier interface {
	DeleteProject(ctx context.Context, projectID string) (Report, error)
	UpdateProject(ctx context.Context, projectID string, set map[string]any, unset []string) (Report, error)
	CountProject(ctx context.Context, projectID string) (Report, error)
}

// Limited is a decorator that enforces safety.maxDocsPerEvent: before a
// cleanup or a propagation, it counts the project's documents in every
// configured collection (CountProject) and, when there are more than the
// limit, writes nothing and returns an error wrapping ErrSafetyLimit (the
// watcher dead-letters the event; "watcher dlq retry ID --force" applies it
// through the undecorated applier).
//
// The count covers every configured collection, also for an update that
// copies a field into only some of them: the limit is about how many of a
// project's documents one event may reach, and counting more only makes it
// stricter. Documents written between the count and the writes are not
// counted: the limit guards against mass changes, it is not a transaction.
type Limited struct {
	next ProjectApplier
	max  int
}

var _ ProjectApplier = (*Limited)(nil)

// NewLimited wraps next with a limit of max documents per event; max <= 0
// means no limit (next is then called without counting).
func NewLimited(next ProjectApplier, max int) *Limited {
	return &Limited{next: next, max: max}
}

// DeleteProject implements ProjectApplier.
func (l *Limited) DeleteProject(ctx context.Context, projectID string) (Report, error) {
	if rep, err := l.check(ctx, projectID); err != nil {
		return rep, err
	}
	return l.next.DeleteProject(ctx, projectID)
}

// UpdateProject implements ProjectApplier.
func (l *Limited) UpdateProject(ctx context.Context, projectID string, set map[string]any, unset []string) (Report, error) {
	if rep, err := l.check(ctx, projectID); err != nil {
		return rep, err
	}
	return l.next.UpdateProject(ctx, projectID, set, unset)
}

// CountProject implements ProjectApplier.
func (l *Limited) CountProject(ctx context.Context, projectID string) (Report, error) {
	return l.next.CountProject(ctx, projectID)
}

// check returns the count report and an ErrSafetyLimit error when the
// project has too many documents.
func (l *Limited) check(ctx context.Context, projectID string) (Report, error) {
	if l.max <= 0 {
		return Report{}, nil
	}
	rep, err := l.next.CountProject(ctx, projectID)
	if err != nil {
		return Report{}, fmt.Errorf("safety limit: %w", err)
	}
	if n := rep.Total(); n > l.max {
		return rep, fmt.Errorf("%w: project %s has %d documents (limit %d); nothing was written",
			ErrSafetyLimit, projectID, n, l.max)
	}
	return Report{}, nil
}
