package resume

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// MongoStore keeps checkpoints in a MongoDB collection, one document per
// stream name: {_id: name, token, clusterTime, savedAt}. Writes use the
// majority write concern, so a saved token survives a failover.
type MongoStore struct {
	coll *mongo.Collection
	name string
}

// mongoCheckpoint is the stored document.
type mongoCheckpoint struct {
	ID          string         `bson:"_id"`
	Token       bson.Raw       `bson:"token"`
	ClusterTime bson.Timestamp `bson:"clusterTime"`
	SavedAt     time.Time      `bson:"savedAt"`
	// Epoch is the leader epoch of the last fenced write (FencedStore); 0:
	// written without leases.
	Epoch int64 `bson:"epoch,omitempty"`
}

// NewMongoStore returns a store in cfg.Database.cfg.Collection keyed by cfg.Name.
func NewMongoStore(client *mongo.Client, cfg config.Resume) *MongoStore {
	coll := client.Database(cfg.Database).Collection(cfg.Collection,
		options.Collection().
			SetWriteConcern(writeconcern.Majority()).
			SetReadConcern(readconcern.Majority()))
	return &MongoStore{coll: coll, name: cfg.Name}
}

// Load reads the checkpoint; ok is false when there is none.
func (s *MongoStore) Load(ctx context.Context) (event.Checkpoint, bool, error) {
	raw, err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: s.name}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return event.Checkpoint{}, false, nil
	}
	if err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("load checkpoint %q from %s: %w", s.name, s.where(), err)
	}
	var doc mongoCheckpoint
	if err := bson.Unmarshal(raw, &doc); err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("%w: %q in %s: %w", ErrCorrupt, s.name, s.where(), err)
	}
	if len(doc.Token) == 0 && doc.Epoch > 0 {
		return event.Checkpoint{}, false, nil // a leader's fence (FencedStore.Claim), no checkpoint yet
	}
	if len(doc.Token) == 0 {
		return event.Checkpoint{}, false, fmt.Errorf("%w: %q in %s has no token", ErrCorrupt, s.name, s.where())
	}
	if err := doc.Token.Validate(); err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("%w: %q in %s: token: %w", ErrCorrupt, s.name, s.where(), err)
	}
	return event.Checkpoint{
		Token:       append(bson.Raw(nil), doc.Token...),
		ClusterTime: doc.ClusterTime,
		SavedAt:     doc.SavedAt.UTC(),
	}, true, nil
}

// Save upserts the checkpoint (majority write concern).
func (s *MongoStore) Save(ctx context.Context, cp event.Checkpoint) error {
	if len(cp.Token) == 0 {
		return errNoToken
	}
	savedAt := cp.SavedAt
	if savedAt.IsZero() {
		savedAt = time.Now()
	}
	doc := mongoCheckpoint{ID: s.name, Token: cp.Token, ClusterTime: cp.ClusterTime, SavedAt: savedAt.UTC()}
	_, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: s.name}}, doc, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("save checkpoint %q to %s: %w", s.name, s.where(), err)
	}
	return nil
}

// StoredEpoch returns the leader epoch of the checkpoint's last fenced
// write (0: none, or no checkpoint).
func (s *MongoStore) StoredEpoch(ctx context.Context) (int64, error) {
	var doc struct {
		Epoch int64 `bson:"epoch"`
	}
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: s.name}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read checkpoint epoch %q from %s: %w", s.name, s.where(), err)
	}
	return doc.Epoch, nil
}

// Reset deletes the checkpoint.
func (s *MongoStore) Reset(ctx context.Context) error {
	if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: s.name}}); err != nil {
		return fmt.Errorf("reset checkpoint %q in %s: %w", s.name, s.where(), err)
	}
	return nil
}

func (s *MongoStore) where() string {
	return s.coll.Database().Name() + "." + s.coll.Name()
}
