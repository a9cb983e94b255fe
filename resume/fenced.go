package resume

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/watcher"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ErrFenced reports a checkpoint write refused because the stored
// checkpoint belongs to a newer leader epoch: this instance is no longer
// the leader and must stop.
var ErrFenced = errors.New("checkpoint write refused: a newer leader epoch owns the checkpoint")

// FencedStore is a MongoStore whose writes are conditional on the leader
// lease epoch. The checkpoint document carries the epoch of its last writer;
// a write succeeds only where the stored epoch is not larger than ours, in
// one atomic update (an upsert that finds a newer epoch collides with the
// existing _id and is refused). A paused former leader can therefore never
// overwrite the checkpoint of the leader that replaced it.
type FencedStore struct {
	s        *MongoStore
	epoch    int64
	onFenced func(error)
}

var _ watcher.TokenStore = (*FencedStore)(nil)

// NewFenced returns s fenced by epoch (> 0). onFenced (may be nil) is called
// with the error of every refused write, so the caller can step down at once.
func NewFenced(s *MongoStore, epoch int64, onFenced func(error)) (*FencedStore, error) {
	if s == nil {
		return nil, errors.New("resume: NewFenced needs a MongoStore")
	}
	if epoch < 1 {
		return nil, fmt.Errorf("resume: fencing epoch %d: want > 0", epoch)
	}
	if onFenced == nil {
		onFenced = func(error) {}
	}
	return &FencedStore{s: s, epoch: epoch, onFenced: onFenced}, nil
}

// Epoch is the store's fencing epoch.
func (f *FencedStore) Epoch() int64 { return f.epoch }

// Claim raises the stored checkpoint's epoch to ours without changing its
// token (creating a token-less fence document when there is no checkpoint
// yet), so from now on no earlier leader can write. A new leader calls it
// right after taking the lease, before it loads the checkpoint.
func (f *FencedStore) Claim(ctx context.Context) error {
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "epoch", Value: f.epoch}}}}
	return f.write(ctx, update, "claim")
}

// Load reads the checkpoint (see MongoStore.Load).
func (f *FencedStore) Load(ctx context.Context) (event.Checkpoint, bool, error) {
	return f.s.Load(ctx)
}

// Save writes the checkpoint with our epoch, unless a newer epoch owns it
// (ErrFenced).
func (f *FencedStore) Save(ctx context.Context, cp event.Checkpoint) error {
	if len(cp.Token) == 0 {
		return errNoToken
	}
	savedAt := cp.SavedAt
	if savedAt.IsZero() {
		savedAt = time.Now()
	}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "token", Value: cp.Token},
		{Key: "clusterTime", Value: cp.ClusterTime},
		{Key: "savedAt", Value: savedAt.UTC()},
		{Key: "epoch", Value: f.epoch},
	}}}
	return f.write(ctx, update, "save")
}

// Reset deletes the checkpoint (see MongoStore.Reset).
func (f *FencedStore) Reset(ctx context.Context) error { return f.s.Reset(ctx) }

// StoredEpoch returns the epoch of the checkpoint document's last writer
// (0 when there is none or it was written without fencing).
func (f *FencedStore) StoredEpoch(ctx context.Context) (int64, error) {
	return f.s.StoredEpoch(ctx)
}

func (f *FencedStore) write(ctx context.Context, update bson.D, what string) error {
	filter := bson.D{
		{Key: "_id", Value: f.s.name},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "epoch", Value: bson.D{{Key: "$lte", Value: f.epoch}}}},
			bson.D{{Key: "epoch", Value: bson.D{{Key: "$exists", Value: false}}}},
		}},
	}
	_, err := f.s.coll.UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		ferr := fmt.Errorf("%w (%s of %q in %s with epoch %d)", ErrFenced, what, f.s.name, f.s.where(), f.epoch)
		f.onFenced(ferr)
		return ferr
	}
	if err != nil {
		return fmt.Errorf("%s checkpoint %q to %s (epoch %d): %w", what, f.s.name, f.s.where(), f.epoch, err)
	}
	return nil
}
