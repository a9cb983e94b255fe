package watcher

import (
	"context"
	"time"

	"github.com/projectwatcher/watcher/event"
)

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
