package watcher

import (
	"context"
	"time"

	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// DeadLetterStore keeps dead letters (implemented by deadletter.Store).
// Add must be idempotent for the same event (same token): a replay after a
// crash parks the event once.
type DeadLetterStore interface {
	Add(ctx context.Context, l event.DeadLetter) error
}

// FailureObserver is told about retries and dead letters (metrics). Its
// methods must be cheap and safe for concurrent use.
type FailureObserver interface {
	EventRetried(kind event.Kind, attempt int, delay time.Duration, err error)
	EventDeadLettered(kind event.Kind, reason string)
}

type nopFailures struct{}

func (nopFailures) EventRetried(event.Kind, int, time.Duration, error) {}
func (nopFailures) EventDeadLettered(event.Kind, string)               {}

// newDeadLetter describes ev (with the change's documentKey when the event
// could not be derived) for the dead-letter store.
func newDeadLetter(ev *event.Event, docKey bson.Raw, reason string, err error, attempts int, first, last time.Time) event.DeadLetter {
	if len(docKey) == 0 && ev.DocumentID.Type != 0 {
		if b, merr := bson.Marshal(bson.D{{Key: "_id", Value: ev.DocumentID}}); merr == nil {
			docKey = b
		}
	}
	kind := ev.Kind.String()
	return event.DeadLetter{
		Kind:          kind,
		ProjectID:     ev.ProjectID,
		Op:            ev.Op,
		DocumentKey:   docKey,
		Set:           ev.Set,
		Unset:         ev.Unset,
		Lookup:        ev.Lookup,
		Token:         ev.Token,
		ClusterTime:   ev.ClusterTime,
		WallTime:      ev.WallTime,
		Reason:        reason,
		Error:         err.Error(),
		Attempts:      attempts,
		FirstFailedAt: first,
		LastFailedAt:  last,
	}
}
