package watcher

import (
	"context"
	"time"

	"github.com/projectwatcher/watcher/event"
)

// Applier applies derived events to Firestore (implemented by fssync.Applier).
type Applier interface {
	DeleteProject(ctx context.Context, projectID string) (event.Report, error)
	// UpdateProject rewrites copies: set and unset are keyed by source path.
	UpdateProject(ctx context.Context, projectID string, set map[string]any, unset []string) (event.Report, error)
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
