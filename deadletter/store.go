package deadletter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/projectwatcher/watcher/bsonvalue"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/watcher"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// ErrNotFound is returned for an id that names no dead letter.
var ErrNotFound = errors.New("deadletter: no dead letter with this id")

// Store is the dead-letter collection.
type Store struct {
	coll *mongo.Collection
}

var _ watcher.DeadLetterStore = (*Store)(nil)

// New returns a Store on coll. Whatever the URI says, dead letters are
// written with majority write concern, as checkpoints are (a letter
// acknowledged by one node only could be rolled back after the checkpoint
// passed its event: the event would be lost), and read on the primary with
// majority read concern ("dlq retry" applies what it reads).
func New(coll *mongo.Collection) *Store {
	if coll != nil {
		durable := options.Collection().SetWriteConcern(writeconcern.Majority()).
			SetReadPreference(readpref.Primary()).SetReadConcern(readconcern.Majority())
		coll = coll.Database().Collection(coll.Name(), durable)
	}
	return &Store{coll: coll}
}

// record is a dead letter as stored.
type record struct {
	ID            string         `bson:"_id"`
	Kind          string         `bson:"kind"`
	ProjectID     string         `bson:"projectId"`
	Op            string         `bson:"op"`
	DocumentKey   bson.Raw       `bson:"documentKey,omitempty"`
	Set           []setField     `bson:"set,omitempty"`
	Unset         []string       `bson:"unset,omitempty"`
	Lookup        []string       `bson:"lookup,omitempty"`
	Token         bson.Raw       `bson:"token,omitempty"`
	ClusterTime   bson.Timestamp `bson:"clusterTime"`
	WallTime      time.Time      `bson:"wallTime,omitempty"`
	Reason        string         `bson:"reason"`
	Error         string         `bson:"error"`
	Attempts      int            `bson:"attempts"`
	FirstFailedAt time.Time      `bson:"firstFailedAt"`
	LastFailedAt  time.Time      `bson:"lastFailedAt"`
}

// setField is one copied field's new value. Set is stored as a list, not
// a document: source paths may contain dots.
type setField struct {
	Path  string        `bson:"path"`
	Value bson.RawValue `bson:"value"`
}

// ID is the id of the dead letter of an event: derived from its resume
// token, so parking the same event twice (a replay after a crash) keeps
// one dead letter. Without a token, a fresh id.
func ID(token bson.Raw) string {
	if len(token) == 0 {
		return bson.NewObjectID().Hex()
	}
	sum := sha256.Sum256(token)
	return hex.EncodeToString(sum[:12])
}

// Add stores l (idempotent per event: the id comes from its token; a
// second Add of the same event updates the failure and keeps the first
// failure time).
func (s *Store) Add(ctx context.Context, l event.DeadLetter) error {
	if l.ID == "" {
		l.ID = ID(l.Token)
	}
	r, err := toRecord(l)
	if err != nil {
		return err
	}
	doc, err := bson.Marshal(r)
	if err != nil {
		return fmt.Errorf("deadletter: encode: %w", err)
	}
	set := bson.D{}
	for _, e := range mustElements(doc) {
		if e.Key() == "_id" || e.Key() == "firstFailedAt" {
			continue
		}
		set = append(set, bson.E{Key: e.Key(), Value: e.Value()})
	}
	update := bson.D{
		{Key: "$set", Value: set},
		{Key: "$setOnInsert", Value: bson.D{{Key: "firstFailedAt", Value: r.FirstFailedAt}}},
	}
	if _, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}}, update, options.UpdateOne().SetUpsert(true)); err != nil {
		return fmt.Errorf("deadletter: write %s: %w", r.ID, err)
	}
	return nil
}

func mustElements(doc bson.Raw) []bson.RawElement {
	els, err := doc.Elements()
	if err != nil {
		return nil
	}
	return els
}

// List returns every dead letter, oldest event first.
func (s *Store) List(ctx context.Context) ([]event.DeadLetter, error) {
	cur, err := s.coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "clusterTime", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("deadletter: list: %w", err)
	}
	defer cur.Close(ctx)
	var out []event.DeadLetter
	for cur.Next(ctx) {
		l, err := decode(cur.Current)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("deadletter: list: %w", err)
	}
	return out, nil
}

// Get returns the dead letter id (ErrNotFound when there is none).
func (s *Store) Get(ctx context.Context, id string) (event.DeadLetter, error) {
	raw, err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return event.DeadLetter{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return event.DeadLetter{}, fmt.Errorf("deadletter: get %s: %w", id, err)
	}
	return decode(raw)
}

// Remove deletes the dead letter id (ErrNotFound when there is none).
func (s *Store) Remove(ctx context.Context, id string) error {
	res, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return fmt.Errorf("deadletter: remove %s: %w", id, err)
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return nil
}

// RemoveAll deletes every dead letter and returns how many there were.
func (s *Store) RemoveAll(ctx context.Context) (int64, error) {
	res, err := s.coll.DeleteMany(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("deadletter: remove all: %w", err)
	}
	return res.DeletedCount, nil
}

// Count returns the number of dead letters.
func (s *Store) Count(ctx context.Context) (int64, error) {
	n, err := s.coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("deadletter: count: %w", err)
	}
	return n, nil
}

// RecordFailure notes another failed attempt of the dead letter id (a
// failed "dlq retry").
func (s *Store) RecordFailure(ctx context.Context, id string, cause error, at time.Time) error {
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: "error", Value: cause.Error()}, {Key: "lastFailedAt", Value: at.UTC()}}},
		{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}},
	}
	if _, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update); err != nil {
		return fmt.Errorf("deadletter: record failure of %s: %w", id, err)
	}
	return nil
}

func toRecord(l event.DeadLetter) (record, error) {
	r := record{
		ID: l.ID, Kind: l.Kind, ProjectID: l.ProjectID, Op: l.Op, DocumentKey: l.DocumentKey,
		Unset: l.Unset, Lookup: l.Lookup, Token: l.Token, ClusterTime: l.ClusterTime, WallTime: l.WallTime,
		Reason: l.Reason, Error: l.Error, Attempts: l.Attempts,
		FirstFailedAt: l.FirstFailedAt.UTC(), LastFailedAt: l.LastFailedAt.UTC(),
	}
	paths := make([]string, 0, len(l.Set))
	for p := range l.Set {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		t, b, err := bson.MarshalValue(l.Set[p])
		if err != nil {
			return record{}, fmt.Errorf("deadletter: encode set.%s of %s: %w", p, l.ProjectID, err)
		}
		r.Set = append(r.Set, setField{Path: p, Value: bson.RawValue{Type: t, Value: b}})
	}
	return r, nil
}

func decode(raw bson.Raw) (event.DeadLetter, error) {
	var r record
	if err := bson.Unmarshal(raw, &r); err != nil {
		return event.DeadLetter{}, fmt.Errorf("deadletter: decode: %w", err)
	}
	l := event.DeadLetter{
		ID: r.ID, Kind: r.Kind, ProjectID: r.ProjectID, Op: r.Op, DocumentKey: r.DocumentKey,
		Unset: r.Unset, Lookup: r.Lookup, Token: r.Token, ClusterTime: r.ClusterTime, WallTime: r.WallTime,
		Reason: r.Reason, Error: r.Error, Attempts: r.Attempts, FirstFailedAt: r.FirstFailedAt, LastFailedAt: r.LastFailedAt,
	}
	if len(r.Set) > 0 {
		l.Set = make(map[string]any, len(r.Set))
		for _, f := range r.Set {
			v, err := bsonvalue.Plain(f.Value)
			if err != nil {
				return l, fmt.Errorf("deadletter: decode set.%s of %s: %w", f.Path, r.ID, err)
			}
			l.Set[f.Path] = v
		}
	}
	return l, nil
}
