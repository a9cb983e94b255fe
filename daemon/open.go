package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/fsfence"
	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/reconcile"
	"github.com/projectwatcher/watcher/resume"
	"github.com/projectwatcher/watcher/source"
	fssync "github.com/projectwatcher/watcher/sync"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
)

// Daemon holds what the running watcher and the operator commands
// (reconcile, dlq, checkpoint) share: the MongoDB and Firestore clients,
// each opened once by Open, and the parts built on them once. A part whose
// client was left out (see the options) is nil.
type Daemon struct {
	cfg config.Config
	log zerolog.Logger // without a component: each part adds its own

	mongo     *mongo.Client     // nil with CheckpointsOnly and the file store
	firestore *firestore.Client // nil with MongoOnly and CheckpointsOnly

	// What the clients see of their servers: fed by the Firestore client's
	// interceptors and the MongoDB driver's monitors.
	fsHealth    *fsmeter.Health
	mongoHealth *mongoHealth
	// writes fences the Firestore client's writes to the lease term
	// (WithWriteFence; nil: unfenced).
	writes *fsfence.Fence

	projects    *mongo.Collection
	resolver    *source.Resolver
	deadLetters *deadletter.Store
	checkpoints resume.Store
	applier     *fssync.Applier // safety.maxDocsPerEvent and safety.dryRun applied
	unlimited   *fssync.Applier // the same without the limit ("dlq retry --force")

	closeOnce sync.Once
	closeErr  error
}

// Option selects what Open connects. Without options it connects both
// clients (the daemon, "watcher reconcile", "watcher dlq retry").
type Option func(*openOptions)

type openOptions struct {
	firestore   bool
	mongo       bool
	checkpoints bool // MongoDB only when the checkpoint store lives there
	meter       fsmeter.Recorder
	fsHealth    *fsmeter.Health
	fence       bool
}

// MongoOnly leaves Firestore out: for the commands that only read or
// remove dead letters.
func MongoOnly() Option { return func(o *openOptions) { o.firestore = false } }

// CheckpointsOnly opens only what the checkpoint store needs: MongoDB for
// resume.store "mongo", nothing for the file store.
func CheckpointsOnly() Option {
	return func(o *openOptions) { o.firestore, o.checkpoints = false, true }
}

// WithFirestoreMeter meters the Firestore client's RPCs into rec and
// follows Firestore's health in h (Daemon.FirestoreHealth); without it Open
// follows the health in a Health of its own and meters nothing.
func WithFirestoreMeter(rec fsmeter.Recorder, h *fsmeter.Health) Option {
	return func(o *openOptions) { o.meter, o.fsHealth = rec, h }
}

// WithWriteFence puts a write fence on the Firestore client, the last
// interceptor before an RPC goes out: it sends a write RPC only while the
// lease term the instance runs allows it (fsfence), so a leader paused
// past its term writes nothing when it resumes. For the daemon with
// lease.enabled; the commands write unfenced.
func WithWriteFence() Option { return func(o *openOptions) { o.fence = true } }

// ErrConfig marks an Open error that the configuration causes (a part
// refused its section): for the commands a usage error (exit 2), not a
// runtime failure.
var ErrConfig = errors.New("invalid configuration")

type configErr struct{ err error }

func (e configErr) Error() string   { return e.err.Error() }
func (e configErr) Unwrap() []error { return []error{e.err, ErrConfig} }

// Open connects the clients and builds the parts on them. It sends nothing
// to MongoDB (the driver connects lazily and the first call that needs the
// server waits for it; only a mongodb+srv URI is resolved here), so a
// MongoDB that is down shows at the first read. Close releases what Open
// opened; on error nothing stays open.
func Open(ctx context.Context, cfg config.Config, log zerolog.Logger, opts ...Option) (*Daemon, error) {
	o := openOptions{firestore: true, mongo: true}
	for _, opt := range opts {
		opt(&o)
	}
	if o.checkpoints {
		o.mongo = cfg.Resume.Store == "mongo" || cfg.Resume.Store == ""
	}
	d := &Daemon{cfg: cfg, log: log, fsHealth: o.fsHealth, mongoHealth: newMongoHealth()}
	if d.fsHealth == nil {
		d.fsHealth = fsmeter.NewHealth() // silent: the commands' own errors say enough
	}
	if err := d.open(ctx, o); err != nil {
		_ = d.Close()
		return nil, err
	}
	return d, nil
}

// open connects the clients o asks for and builds the parts on them.
func (d *Daemon) open(ctx context.Context, o openOptions) error {
	cfg := d.cfg
	if o.mongo {
		mc, err := connectMongo(cfg.Mongo.URI, d.mongoHealth)
		if err != nil {
			return err
		}
		d.mongo = mc
		d.projects = mc.Database(cfg.Mongo.Database).Collection(cfg.Mongo.Collection)
		d.resolver = source.NewResolver(d.projects, source.WithCreateTimeSkew(cfg.Sync.CreateTimeSkew))
		d.deadLetters = deadletter.New(mc.Database(cfg.DeadLetter.Database).Collection(cfg.DeadLetter.Collection))
	}
	store, err := resume.New(d.mongo, cfg.Resume)
	if err != nil {
		return configErr{err}
	}
	d.checkpoints = store
	if !o.firestore {
		return nil
	}
	var fence []grpc.DialOption
	if o.fence {
		d.writes = fsfence.New(d.logRefusedWrite)
		fence = d.writes.DialOptions()
	}
	meter, err := fsmeter.ClientOptions(o.meter, os.Getenv(emulatorHostEnv), fence, d.fsHealth)
	if err != nil {
		return err
	}
	if d.firestore, err = firestoreClient(ctx, cfg.Firestore, meter...); err != nil {
		return err
	}
	if d.applier, err = NewApplier(d.firestore, cfg, d.log, false); err != nil {
		return configErr{err}
	}
	if d.unlimited, err = NewApplier(d.firestore, cfg, d.log, true); err != nil {
		return configErr{err}
	}
	return nil
}

// logRefusedWrite logs a Firestore write the fence did not send.
func (d *Daemon) logRefusedWrite(method string, err error) {
	d.log.Warn().Str("component", "lease").Str("method", method).Err(err).
		Msg("Firestore write not sent: this instance's lease term ended; the event is left to the next leader")
}

// emulatorHostEnv points the Firestore client at an emulator.
const emulatorHostEnv = "FIRESTORE_EMULATOR_HOST"

// firestoreClient opens the Firestore client (the emulator when
// FIRESTORE_EMULATOR_HOST is set).
func firestoreClient(ctx context.Context, cfg config.Firestore, extra ...option.ClientOption) (*firestore.Client, error) {
	opts := append([]option.ClientOption{}, extra...)
	if cfg.CredentialsFile != "" {
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, cfg.CredentialsFile))
	}
	c, err := firestore.NewClientWithDatabase(ctx, cfg.ProjectID, cfg.DatabaseID, opts...)
	if err != nil {
		return nil, fmt.Errorf("firestore client: %w", err)
	}
	return c, nil
}

// Close closes the Firestore client and disconnects from MongoDB (waiting
// at most 5 s). Calling it again returns the first result.
func (d *Daemon) Close() error {
	d.closeOnce.Do(func() {
		var errs []error
		if d.firestore != nil {
			if err := d.firestore.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing the Firestore client: %w", err))
			}
		}
		if d.mongo != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := d.mongo.Disconnect(ctx); err != nil {
				errs = append(errs, fmt.Errorf("disconnecting from MongoDB: %w", err))
			}
		}
		d.closeErr = errors.Join(errs...)
		if d.closeErr != nil {
			d.log.Warn().Str("component", "main").Err(d.closeErr).Msg("closing the clients")
		}
	})
	return d.closeErr
}

// Config is the configuration the Daemon was opened with.
func (d *Daemon) Config() config.Config { return d.cfg }

// Firestore is the Firestore client.
func (d *Daemon) Firestore() *firestore.Client { return d.firestore }

// FirestoreHealth tells whether Firestore answers the client's RPCs.
func (d *Daemon) FirestoreHealth() *fsmeter.Health { return d.fsHealth }

// Projects is the watched collection (mongo.database, mongo.collection).
func (d *Daemon) Projects() *mongo.Collection { return d.projects }

// Resolver reads project fields by _id (for events whose values must be
// looked up).
func (d *Daemon) Resolver() *source.Resolver { return d.resolver }

// DeadLetters is the dead-letter collection (deadLetter.*).
func (d *Daemon) DeadLetters() *deadletter.Store { return d.deadLetters }

// Checkpoints is the configured checkpoint store (resume.*).
func (d *Daemon) Checkpoints() resume.Store { return d.checkpoints }

// Applier is the applier every event goes through: the Firestore applier
// with safety.maxDocsPerEvent, as a dry run with safety.dryRun.
func (d *Daemon) Applier() *fssync.Applier { return d.applier }

// UnlimitedApplier is Applier without the safety limit ("dlq retry --force").
func (d *Daemon) UnlimitedApplier() *fssync.Applier { return d.unlimited }

// NewReconciler returns the reconciler of "watcher reconcile": each repair
// is prepared with Resolver right before it goes through Applier, the
// applier the events use (safety.maxDocsPerEvent included), and it scans
// under firestore.callTimeout (unless opts sets its own).
func (d *Daemon) NewReconciler(opts reconcile.Options) (*reconcile.Reconciler, error) {
	if opts.CallTimeout == 0 {
		opts.CallTimeout = d.cfg.Firestore.CallTimeout
	}
	var a watcher.Applier
	if d.applier != nil {
		a = reconcile.Prepared(d.resolver, d.applier)
	}
	return reconcile.New(d.firestore, d.projects, d.cfg.Sync, a, d.log, opts)
}
