// Package resume stores the watcher's checkpoint (the change stream resume
// token): in MongoDB (the default) or in a local file.
package resume

import (
	"context"
	"errors"
	"fmt"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/watcher"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Store persists one stream's checkpoint. It satisfies watcher.TokenStore.
type Store interface {
	// Load returns the stored checkpoint; ok is false when there is none.
	Load(ctx context.Context) (cp event.Checkpoint, ok bool, err error)
	Save(ctx context.Context, cp event.Checkpoint) error
	// Reset deletes the checkpoint (no error when there is none).
	Reset(ctx context.Context) error
}

// ErrCorrupt marks a stored checkpoint that cannot be read. It is never
// taken for "no checkpoint": starting over would silently skip changes.
var ErrCorrupt = errors.New("stored checkpoint is corrupt")

// errNoToken is a Save of a checkpoint without a token.
var errNoToken = errors.New("checkpoint has no resume token")

// New returns the store cfg.Store names. client is used by the mongo store
// only (it may be nil for the file store).
func New(client *mongo.Client, cfg config.Resume) (Store, error) {
	switch cfg.Store {
	case "mongo", "":
		if client == nil {
			return nil, errors.New("resume store \"mongo\" needs a MongoDB client")
		}
		return NewMongoStore(client, cfg), nil
	case "file":
		if cfg.Path == "" {
			return nil, errors.New("resume store \"file\" needs resume.path")
		}
		return NewFileStore(cfg.Path, cfg.Name), nil
	}
	return nil, fmt.Errorf("resume.store %q: want mongo or file", cfg.Store)
}

// Both stores are what the watcher needs.
var (
	_ watcher.TokenStore = (*MongoStore)(nil)
	_ watcher.TokenStore = (*FileStore)(nil)
)
