package watcher

import (
	"time"

	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

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
