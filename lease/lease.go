package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// Term is one period of leadership. Its Context ends when the parent
// context ends (a clean stop) or when the lease is lost; Lost is closed
// only in the second case, at once, before another instance can take the
// lease. The lease is renewed until Release (or the loss), not only until
// the parent ends: a leader that drains its queued events after a SIGTERM
// still holds the lease while it writes.
type Term struct {
	l     *Lease
	epoch int64
	ctx   context.Context
	stop  context.CancelFunc
	// renewCtx ends at Release or at the loss.
	renewCtx  context.Context
	stopRenew context.CancelFunc

	lostOnce sync.Once
	lost     chan struct{}
	mu       sync.Mutex
	lostErr  error
	done     chan struct{} // the renewer stopped
}

func (l *Lease) startTerm(parent context.Context, epoch int64, sent time.Time) *Term {
	ctx, stop := context.WithCancel(parent)
	renewCtx, stopRenew := context.WithCancel(context.WithoutCancel(parent))
	t := &Term{l: l, epoch: epoch, ctx: ctx, stop: stop, renewCtx: renewCtx, stopRenew: stopRenew,
		lost: make(chan struct{}), done: make(chan struct{})}
	go t.renewLoop(sent)
	return t
}

// Epoch is the term's fencing number: larger than every earlier term's.
func (t *Term) Epoch() int64 { return t.epoch }

// Context ends with the term.
func (t *Term) Context() context.Context { return t.ctx }

// Lost is closed when the lease is lost.
func (t *Term) Lost() <-chan struct{} { return t.lost }

// Err is ErrLost (wrapped with the reason) once the lease is lost,
// nil otherwise.
func (t *Term) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lostErr
}

// Lose ends the term as lost (for example when a fenced write was refused).
func (t *Term) Lose(reason error) {
	t.lostOnce.Do(func() {
		t.mu.Lock()
		t.lostErr = fmt.Errorf("%w: %w", ErrLost, reason)
		t.mu.Unlock()
		t.stop() // before close: whoever wakes on Lost sees the context done
		t.stopRenew()
		close(t.lost)
		t.l.log.Error().Err(reason).Int64("epoch", t.epoch).Msg("lost the leader lease; stopping at once")
	})
}

// Release stops renewing and frees the lease if this term still holds it
// in MongoDB (also after a loss: the release is conditional on owner and
// epoch, so it never touches another instance's lease), so a standby takes
// over at once. Call it after the work of the term stopped.
func (t *Term) Release(ctx context.Context) error {
	t.stop()
	t.stopRenew()
	<-t.done
	if err := t.l.release(ctx, t.epoch); err != nil {
		return err
	}
	t.l.log.Info().Int64("epoch", t.epoch).Msg("released the leader lease")
	return nil
}

// renewLoop renews every TTL/3. The lease counts as lost at the deadline:
// SkewMargin before the expiry written by the last successful renewal,
// measured from when that renewal was sent.
func (t *Term) renewLoop(sent time.Time) {
	defer close(t.done)
	l := t.l
	deadline := sent.Add(l.ttl - l.skew)
	dl := time.NewTimer(time.Until(deadline))
	defer dl.Stop()
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-t.renewCtx.Done():
			return
		case <-dl.C:
			t.Lose(fmt.Errorf("not renewed before its deadline (ttl %s, skew margin %s)", l.ttl, l.skew))
			return
		case <-tick.C:
		}
		// A paused process may wake with both timers due: the deadline wins.
		if !time.Now().Before(deadline) {
			t.Lose(fmt.Errorf("not renewed before its deadline (ttl %s, skew margin %s)", l.ttl, l.skew))
			return
		}
		start := time.Now()
		rctx, cancel := context.WithDeadline(t.renewCtx, deadline)
		ok, err := l.renew(rctx, t.epoch)
		cancel()
		switch {
		case t.renewCtx.Err() != nil:
			return
		case err != nil:
			l.log.Warn().Err(err).Time("deadline", deadline).Msg("renewing the lease failed; retrying until the deadline")
		case !ok:
			t.Lose(errors.New("another instance holds the lease"))
			return
		default:
			deadline = start.Add(l.ttl - l.skew)
			if !dl.Stop() {
				select {
				case <-dl.C:
				default:
				}
			}
			dl.Reset(time.Until(deadline))
		}
	}
}
