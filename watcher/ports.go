package watcher

import (
	"context"
	"time"

	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The ports of the pipeline: what the watcher needs from the stages around
// it, implemented elsewhere (source, sync, resume, deadletter, metrics) and
// wired by package daemon.

// ChangeSource is the change stream (implemented by source.Source).
type ChangeSource interface {
	// Open starts the stream after token, or at the configured start
	// position when token is nil. Open and Next report a position that is
	// no longer in the history with an error wrapping event.ErrHistoryLost.
	Open(ctx context.Context, token bson.Raw) error
	// Next returns the next change; ok is false when nothing new arrived
	// within the server's wait (the batch is exhausted).
	Next(ctx context.Context) (ch event.Change, ok bool, err error)
	// ResumeToken is the stream's current (post-batch) resume token.
	ResumeToken() bson.Raw
	Close(ctx context.Context) error
}

// ProjectReader reads, on MongoDB's primary, what an event needs of its
// project before it is applied (implemented by source.Resolver).
type ProjectReader interface {
	// Resolve reads the values of ev.Lookup paths into ev.Set/ev.Unset.
	Resolve(ctx context.Context, ev *event.Event) error
	// Check applies the existence rules: a live project with the other
	// form of the id is an error wrapping event.ErrProjectExists; a delete
	// whose id exists again gets ev.CreatedBy.
	Check(ctx context.Context, ev *event.Event) error
}

// Applier writes an event's effect to Firestore (implemented by
// fssync.Applier, with the safety limit and the dry run as its options). It
// is the one port every path that changes Firestore goes through: the
// stream's workers, reconciliation and "watcher dlq retry".
type Applier interface {
	// Apply carries out ev: a ProjectDeleted deletes (or archives) the
	// project's assets, a ProjectUpdated rewrites the copies of ev.Set and
	// removes those of ev.Unset (source paths; ev.Lookup resolved before).
	// Applying an event again is harmless.
	Apply(ctx context.Context, ev event.Event) (event.Report, error)
}

// BatchApplier is an Applier that can also apply several events at once
// (implemented by fssync.Applier): their discovery reads are combined
// (one query per collection for the batch), everything else stays per
// event. When the Applier given to the watcher is one, the dispatcher hands
// a free worker up to maxBatch waiting events that read the same (see
// batchKey).
type BatchApplier interface {
	Applier
	// ApplyBatch applies evs, events of distinct projects, and calls done
	// once for each (its index in evs), as soon as that event is finished,
	// with what Apply would have returned for it. done may be called from
	// several goroutines at once; ApplyBatch returns after the last call.
	ApplyBatch(ctx context.Context, evs []event.Event, done func(i int, rep event.Report, err error))
}

// TokenStore persists the resume token (implemented in package resume).
type TokenStore interface {
	// Load returns the stored checkpoint; ok is false when there is none.
	Load(ctx context.Context) (cp event.Checkpoint, ok bool, err error)
	Save(ctx context.Context, cp event.Checkpoint) error
}

// Observer receives what metrics and health need to know. All methods must
// be cheap and safe for concurrent use.
type Observer interface {
	Heartbeat()               // the main loop is alive (called every iteration)
	StreamOpen(open bool)     // the change stream opened or closed
	ChangeReceived(op string) // a raw change event arrived
	CheckpointSaved(at time.Time)
	// EventApplied is called once per derived event, after its Firestore
	// writes (err != nil when they failed).
	EventApplied(kind event.Kind, projectID string, took time.Duration, clusterTime time.Time, report event.Report, err error)
}

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

// Dependencies tells the workers whether the services an event depends on
// are answering, so that an outage pauses events instead of using up their
// attempts (implemented in package daemon from what the clients see).
type Dependencies interface {
	// Answering reports whether the service that err came from (Firestore
	// for a gRPC status, MongoDB for the driver's errors) answered any call
	// since t. An attempt that failed transiently while its service
	// answered nothing is not counted against retry.maxAttempts.
	Answering(err error, since time.Time) bool
}
