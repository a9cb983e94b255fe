package deadletter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/watcher"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrNotRetryable marks a dead letter that cannot be applied again (it
// names no valid project): purge it.
var ErrNotRetryable = errors.New("deadletter: this event cannot be applied again")

// letters is what a Retrier needs of the store (*Store).
type letters interface {
	Get(ctx context.Context, id string) (event.DeadLetter, error)
	Remove(ctx context.Context, id string) error
	RecordFailure(ctx context.Context, id string, cause error, at time.Time) error
}

// Retrier applies dead letters again and removes them on success.
type Retrier struct {
	store    letters
	applier  watcher.Applier // the daemon's chain (safety limit included)
	force    watcher.Applier // without the safety limit (--force)
	resolver watcher.ProjectReader
	now      func() time.Time
}

// NewRetrier returns a Retrier. applier is the chain the daemon uses
// (safety limit included); force is the same without the safety limit;
// resolver reads fields still to be looked up (nil: such letters fail).
func NewRetrier(store letters, applier, force watcher.Applier, resolver watcher.ProjectReader) *Retrier {
	return &Retrier{store: store, applier: applier, force: force, resolver: resolver, now: time.Now}
}

// Retry applies the dead letter id again; on success it is removed. On
// failure it stays, with the new error and one more attempt. force skips
// the safety limit.
func (r *Retrier) Retry(ctx context.Context, id string, force bool) (event.Report, error) {
	l, err := r.store.Get(ctx, id)
	if err != nil {
		return event.Report{}, err
	}
	rep, err := r.apply(ctx, l, force)
	if err != nil {
		if errors.Is(err, ErrNotRetryable) {
			return rep, err
		}
		if rerr := r.store.RecordFailure(ctx, id, err, r.now()); rerr != nil {
			return rep, errors.Join(err, rerr)
		}
		return rep, err
	}
	if err := r.store.Remove(ctx, id); err != nil {
		return rep, fmt.Errorf("applied, but removing the dead letter failed: %w", err)
	}
	return rep, nil
}

func (r *Retrier) apply(ctx context.Context, l event.DeadLetter, force bool) (event.Report, error) {
	ev, err := Event(l)
	if err != nil {
		return event.Report{}, err
	}
	if r.resolver == nil {
		return event.Report{}, fmt.Errorf("%w: a retry reads the project from MongoDB and no reader is configured", ErrNotRetryable)
	}
	if ev.Kind == event.ProjectUpdated {
		// The letter's values may be older than the project's: an old
		// rename must not overwrite a newer one. Read every field the
		// letter touches as it is now.
		ev.Lookup = currentFields(ev)
		ev.Set, ev.Unset = nil, nil
	}
	if err := watcher.Prepare(ctx, r.resolver, &ev); err != nil {
		return event.Report{}, err
	}
	a := r.applier
	if force {
		a = r.force
	}
	if ev.Kind == event.ProjectUpdated && len(ev.Set) == 0 && len(ev.Unset) == 0 {
		return event.Report{}, nil // nothing left to copy (the project is gone)
	}
	return a.Apply(ctx, ev)
}

// Event rebuilds the watcher event of a dead letter. A letter without a
// valid project id (reason invalid-id) is ErrNotRetryable.
func Event(l event.DeadLetter) (event.Event, error) {
	if strings.TrimSpace(l.ProjectID) == "" {
		return event.Event{}, fmt.Errorf("%w: it has no valid project id (documentKey %s); purge it", ErrNotRetryable, keyString(l.DocumentKey))
	}
	ev := event.Event{
		ProjectID: l.ProjectID, Op: l.Op, Set: l.Set, Unset: l.Unset, Lookup: l.Lookup,
		Token: l.Token, ClusterTime: l.ClusterTime, WallTime: l.WallTime,
	}
	switch l.Kind {
	case event.ProjectDeleted.String():
		ev.Kind = event.ProjectDeleted
	case event.ProjectUpdated.String():
		ev.Kind = event.ProjectUpdated
	default:
		return event.Event{}, fmt.Errorf("%w: unknown event kind %q", ErrNotRetryable, l.Kind)
	}
	if len(l.DocumentKey) > 0 {
		if v, err := l.DocumentKey.LookupErr("_id"); err == nil {
			ev.DocumentID = v
		}
	}
	return ev, nil
}

func keyString(k bson.Raw) string {
	if len(k) == 0 {
		return "<none>"
	}
	return k.String()
}

// currentFields lists the source fields a letter touches (set, unset or
// still to be read), once each, sorted.
func currentFields(ev event.Event) []string {
	fields := append(slices.Collect(maps.Keys(ev.Set)), ev.Unset...)
	fields = append(fields, ev.Lookup...)
	slices.Sort(fields)
	return slices.Compact(fields)
}
