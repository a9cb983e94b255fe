package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/internal/clock"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// ErrLost reports that this instance lost the leader lease: it was not
// renewed in time, another instance took it, or a fenced write was refused.
var ErrLost = errors.New("leader lease lost")

// Lease is leader election over one MongoDB document per stream name:
//
//	{_id: name, owner, epoch, expiresAt, acquiredAt, renewedAt}
//
// Taking the lease is one findOneAndUpdate (upsert) whose filter matches only
// a free lease (expiresAt in the past); it sets owner and increments epoch, so
// every takeover has a new, larger epoch. Renewing is a findOneAndUpdate on
// {owner: me, epoch: mine}. Two instances can never both succeed: the server
// applies each update atomically, and a taker racing an existing document
// gets a duplicate-key error on the upsert.
//
// Time: expiresAt is written from the writer's clock (our test server cannot
// evaluate $$NOW in update pipelines), so the replicas' clocks must agree to
// within SkewMargin. The holder considers the lease lost SkewMargin before
// expiresAt, measured on its own monotonic clock from the moment it sent the
// last successful renewal, so it stops before any other instance may take over.
type Lease struct {
	coll  *mongo.Collection
	name  string
	owner string
	ttl   time.Duration
	poll  time.Duration
	skew  time.Duration
	// stepDownWait is the pause after a lost lease before competing again.
	stepDownWait time.Duration
	now          func() time.Time
	log          zerolog.Logger
}

// Options configure New.
type Options struct {
	// Collection holds the lease documents (majority read and write concern
	// are applied by New).
	Collection *mongo.Collection
	Name       string        // resume.name: one lease per stream
	Owner      string        // unique per process (host, pid, random)
	TTL        time.Duration // ttl
	// Poll is how often a standby tries to take the lease (default
	// min(TTL/6, 500ms), so a standby takes an expired lease well within a
	// second).
	Poll time.Duration
	// SkewMargin is the tolerated clock difference between replicas
	// (default TTL/5).
	SkewMargin time.Duration

	// Clock is the writer's clock (nil: the wall clock).
	Clock  clock.Clock
	Logger zerolog.Logger
}

// leaseDoc is the stored lease.
type leaseDoc struct {
	ID         string    `bson:"_id"`
	Owner      string    `bson:"owner"`
	Epoch      int64     `bson:"epoch"`
	ExpiresAt  time.Time `bson:"expiresAt"`
	AcquiredAt time.Time `bson:"acquiredAt"`
	RenewedAt  time.Time `bson:"renewedAt"`
}

// Info is the stored state of a lease (for logs and status).
type Info struct {
	Owner     string
	Epoch     int64
	ExpiresAt time.Time
}

// New checks opts and returns a Lease.
func New(opts Options) (*Lease, error) {
	var errs []error
	if opts.Collection == nil {
		errs = append(errs, errors.New("lease: Collection is required"))
	}
	if opts.Name == "" {
		errs = append(errs, errors.New("lease: Name is required"))
	}
	if opts.Owner == "" {
		errs = append(errs, errors.New("lease: Owner is required"))
	}
	if opts.TTL < 30*time.Millisecond {
		errs = append(errs, fmt.Errorf("lease: TTL %s is too short", opts.TTL))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.Poll <= 0 {
		opts.Poll = min(opts.TTL/6, 500*time.Millisecond)
	}
	if opts.SkewMargin <= 0 || opts.SkewMargin >= opts.TTL/2 {
		opts.SkewMargin = opts.TTL / 5
	}
	coll := opts.Collection.Database().Collection(opts.Collection.Name(),
		options.Collection().SetWriteConcern(writeconcern.Majority()).SetReadConcern(readconcern.Majority()))
	return &Lease{
		coll: coll, name: opts.Name, owner: opts.Owner, ttl: opts.TTL, poll: opts.Poll,
		skew: opts.SkewMargin, stepDownWait: opts.TTL, now: clock.Or(opts.Clock).Now,
		log: opts.Logger.With().Str("component", "lease").Str("owner", opts.Owner).Logger(),
	}, nil
}

// Owner is this instance's owner id.
func (l *Lease) Owner() string { return l.owner }

// TTL is the lease's time to live.
func (l *Lease) TTL() time.Duration { return l.ttl }

// TryAcquire takes the lease if it is free (never taken, released, or
// expired). ok is false when another instance holds it; held describes the
// holder then.
func (l *Lease) TryAcquire(ctx context.Context) (epoch int64, ok bool, held Info, err error) {
	now := l.now()
	filter := bson.D{{Key: "_id", Value: l.name}, {Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: now}}}}
	update := bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "owner", Value: l.owner},
			{Key: "expiresAt", Value: now.Add(l.ttl)},
			{Key: "acquiredAt", Value: now},
			{Key: "renewedAt", Value: now},
		}},
		{Key: "$inc", Value: bson.D{{Key: "epoch", Value: int64(1)}}},
	}
	var doc leaseDoc
	err = l.coll.FindOneAndUpdate(ctx, filter, update,
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	if mongo.IsDuplicateKeyError(err) {
		info, ierr := l.Info(ctx)
		if ierr != nil {
			return 0, false, Info{}, ierr
		}
		return 0, false, info, nil
	}
	if err != nil {
		return 0, false, Info{}, fmt.Errorf("take lease %q: %w", l.name, err)
	}
	if doc.Owner != l.owner {
		return 0, false, Info{Owner: doc.Owner, Epoch: doc.Epoch, ExpiresAt: doc.ExpiresAt}, nil
	}
	return doc.Epoch, true, Info{}, nil
}

// Info reads the stored lease (zero when there is none).
func (l *Lease) Info(ctx context.Context) (Info, error) {
	var doc leaseDoc
	err := l.coll.FindOne(ctx, bson.D{{Key: "_id", Value: l.name}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Info{}, nil
	}
	if err != nil {
		return Info{}, fmt.Errorf("read lease %q: %w", l.name, err)
	}
	return Info{Owner: doc.Owner, Epoch: doc.Epoch, ExpiresAt: doc.ExpiresAt.UTC()}, nil
}

// renew extends the lease held with epoch. ok is false when this instance
// no longer holds it.
func (l *Lease) renew(ctx context.Context, epoch int64) (ok bool, err error) {
	now := l.now()
	filter := bson.D{{Key: "_id", Value: l.name}, {Key: "owner", Value: l.owner}, {Key: "epoch", Value: epoch}}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "expiresAt", Value: now.Add(l.ttl)},
		{Key: "renewedAt", Value: now},
	}}}
	err = l.coll.FindOneAndUpdate(ctx, filter, update).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("renew lease %q: %w", l.name, err)
	}
	return true, nil
}

// release frees the lease held with epoch, so a standby takes it at once.
func (l *Lease) release(ctx context.Context, epoch int64) error {
	filter := bson.D{{Key: "_id", Value: l.name}, {Key: "owner", Value: l.owner}, {Key: "epoch", Value: epoch}}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "owner", Value: ""},
		{Key: "expiresAt", Value: time.Unix(0, 0).UTC()},
	}}}
	if err := l.coll.FindOneAndUpdate(ctx, filter, update).Err(); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("release lease %q: %w", l.name, err)
	}
	return nil
}

// Acquire waits as a standby, trying every poll interval, until this
// instance takes the lease (a Term, renewed in the background) or ctx ends
// (ctx.Err()). Errors talking to MongoDB are logged and retried.
func (l *Lease) Acquire(ctx context.Context) (*Term, error) {
	var lastHolder string
	for {
		sent := time.Now()
		epoch, ok, held, err := l.TryAcquire(ctx)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			l.log.Warn().Err(err).Msg("standby: cannot read or take the lease; retrying")
		case ok:
			l.log.Info().Int64("epoch", epoch).Int64("ttlMs", l.ttl.Milliseconds()).Msg("acquired the leader lease")
			return l.startTerm(ctx, epoch, sent), nil
		case held.Owner != lastHolder:
			lastHolder = held.Owner
			l.log.Info().Str("holder", held.Owner).Int64("epoch", held.Epoch).Time("expiresAt", held.ExpiresAt).
				Msg("standby: the lease is held by another instance")
		}
		t := time.NewTimer(l.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
