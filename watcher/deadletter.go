package watcher

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Reasons an event is dead-lettered (DeadLetter.Reason).
const (
	// ReasonApplyFailed: a permanent failure (Firestore refused, a bad value).
	ReasonApplyFailed = "apply-failed"
	// ReasonRetriesExhausted: transient failures until retry.maxAttempts.
	ReasonRetriesExhausted = "retries-exhausted"
	// ReasonInvalidID: the project id is empty or not an ObjectID or string;
	// no Firestore query was run with it.
	ReasonInvalidID = "invalid-id"
	// ReasonSafetyLimit: the event would touch more documents than
	// safety.maxDocsPerEvent; nothing was written.
	ReasonSafetyLimit = "safety-limit"
)

// DeadLetter is an event parked for a human: it failed permanently or ran
// out of attempts. It holds what is needed to apply it again.
type DeadLetter struct {
	ID          string // chosen by the store
	Kind        string // Kind.String(); "unknown" when the change derived to no event
	ProjectID   string
	Op          string   // operationType
	DocumentKey bson.Raw // documentKey of the change ({_id: ...})
	Set         map[string]any
	Unset       []string
	Lookup      []string // source paths still to be read from MongoDB by _id
	Token       bson.Raw
	ClusterTime bson.Timestamp
	WallTime    time.Time

	Reason        string
	Error         string
	Attempts      int
	FirstFailedAt time.Time
	LastFailedAt  time.Time
}

// DeadLetterStore keeps dead letters (implemented by deadletter.Store).
// Add must be idempotent for the same event (same token): a replay after a
// crash parks the event once.
type DeadLetterStore interface {
	Add(ctx context.Context, l DeadLetter) error
}

// FailureObserver is told about retries and dead letters (metrics). Its
// methods must be cheap and safe for concurrent use.
type FailureObserver interface {
	EventRetried(kind Kind, attempt int, delay time.Duration, err error)
	EventDeadLettered(kind Kind, reason string)
}

type nopFailures struct{}

func (nopFailures) EventRetried(Kind, int, time.Duration, error) {}
func (nopFailures) EventDeadLettered(Kind, string)               {}

// newDeadLetter describes ev (with the change's documentKey when the event
// could not be derived) for the dead-letter store.
func newDeadLetter(ev *Event, docKey bson.Raw, reason string, err error, attempts int, first, last time.Time) DeadLetter {
	if len(docKey) == 0 && ev.DocumentID.Type != 0 {
		if b, merr := bson.Marshal(bson.D{{Key: "_id", Value: ev.DocumentID}}); merr == nil {
			docKey = b
		}
	}
	kind := ev.Kind.String()
	return DeadLetter{
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
