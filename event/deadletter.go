package event

import (
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
	// ReasonProjectExists: a live project has the other form of the id
	// (ObjectID and 24-hex string); nothing was written.
	ReasonProjectExists = "project-exists"
	// ReasonInvalidValue: a copied field holds a value Firestore cannot
	// hold; nothing was written.
	ReasonInvalidValue = "invalid-value"
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
