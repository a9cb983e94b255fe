package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/health"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/projectwatcher/watcher/resume"
	fssync "github.com/projectwatcher/watcher/sync"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"google.golang.org/api/option"
)

// Run wires and runs the parts until ctx is cancelled. A clean stop
// returns nil.
func Run(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	if cfg.Safety.DryRun && cfg.Lease.Enabled {
		// A dry run writes nothing, so it needs no lease and must not take
		// it from the real watcher.
		log.Warn().Str("component", "main").Msg("safety.dryRun: lease.enabled is ignored; the dry run never takes the lease")
		cfg.Lease.Enabled = false
	}
	mc, err := mongo.Connect(options.Client().ApplyURI(cfg.Mongo.URI))
	if err != nil {
		return fmt.Errorf("mongodb client: %w", err)
	}
	defer Disconnect(mc, log)
	projects := mc.Database(cfg.Mongo.Database).Collection(cfg.Mongo.Collection)

	reg := prometheus.NewRegistry()
	calls, err := metrics.NewFirestoreCalls(reg)
	if err != nil {
		return err
	}
	meter, err := fsmeter.ClientOptions(calls, os.Getenv("FIRESTORE_EMULATOR_HOST"))
	if err != nil {
		return err
	}
	fs, err := FirestoreClient(ctx, cfg.Firestore, meter...)
	if err != nil {
		return err
	}
	defer fs.Close()
	applier, err := fssync.New(fs, cfg.Sync, log)
	if err != nil {
		return err
	}
	chain := ApplierChain(applier, cfg.Safety, log)
	store, err := resume.New(mc, cfg.Resume)
	if err != nil {
		return err
	}

	if err := metrics.RegisterRuntime(reg); err != nil {
		return err
	}
	m, err := metrics.New(reg)
	if err != nil {
		return err
	}
	fm, err := metrics.NewFailures(reg)
	if err != nil {
		return err
	}
	dead := deadLetters(mc, cfg, log)
	hs := health.New(cfg.HTTP.Addr, reg, log, health.WithPprof(cfg.HTTP.Pprof))
	if err := hs.Listen(); err != nil {
		return err
	}

	fields := make([]string, 0, len(cfg.Sync.Fields))
	for _, f := range cfg.Sync.Fields {
		fields = append(fields, f.Source)
	}
	wopts := watcher.Options{
		Source:             watcher.NewSource(projects, cfg.Resume.StartAt, log),
		Resolver:           watcher.NewResolver(projects),
		Applier:            chain,
		Store:              store,
		Observer:           watcher.Observers{m, watcher.HeartbeatFunc(hs.Beat)},
		Fields:             fields,
		Workers:            cfg.Sync.Workers,
		CheckpointInterval: cfg.Resume.CheckpointInterval,
		StartAt:            cfg.Resume.StartAt,
		Logger:             log,
		Retry: watcher.RetryPolicy{
			InitialBackoff: cfg.Retry.InitialBackoff, MaxBackoff: cfg.Retry.MaxBackoff, MaxAttempts: cfg.Retry.MaxAttempts,
		},
		DeadLetters: dead,
		Failures:    fm,
	}
	lm, err := metrics.NewLeadership(reg)
	if err != nil {
		return err
	}
	rec, err := newDaemonReconcile(cfg, fs, projects, wopts.Applier, reg, log)
	if err != nil {
		return err
	}
	rec.install(cfg, &wopts, projects, log)
	newSource := func() watcher.ChangeSource { return watcher.NewSource(projects, cfg.Resume.StartAt, log) }
	in, err := newInstance(cfg, mc, store, wopts, newSource, lm, log)
	if err != nil {
		return err
	}
	if cfg.Safety.DryRun {
		// Checkpoints in memory only: start at the real checkpoint, never save.
		in.opts.Store = watcher.NewMemoryStore(store)
	}
	hs.AddCheck("mongo", func(ctx context.Context) error { return mc.Ping(ctx, readpref.Primary()) })
	hs.AddCheck("changeStream", in.streamErr)
	hs.SetRole(in.roleName)
	hs.SetStatus(statusProvider(cfg, mc, in))
	hs.AddCheck("firestore", func(context.Context) error { return applier.LastCallErr() })
	hs.AddCheck("reconcile", rec.readiness)
	wd := health.NewWatchdog(func() (int, time.Time) {
		if w := in.current(); w != nil {
			return w.Progress()
		}
		return 0, time.Time{}
	}, cfg.Health.StallTimeout, nil)
	hs.AddLivenessCheck("progress", wd.Check)
	hs.AddCheck("progress", wd.Check)
	countCtx, stopCount := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCount()
	go fm.Run(countCtx, deadletter.New(DeadLetterCollection(mc, cfg)), time.Minute, func(err error) {
		log.Warn().Str("component", "main").Err(err).Msg("counting the dead letters failed")
	})

	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(httpCtx) }()

	rec.start(func() bool { r, _ := in.Role(); return r == watcher.RoleLeader })
	runErr := in.run(ctx)
	rec.stop()
	stopHTTP()
	return errors.Join(runErr, <-httpDone)
}

func FirestoreClient(ctx context.Context, cfg config.Firestore, extra ...option.ClientOption) (*firestore.Client, error) {
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

func Disconnect(c *mongo.Client, log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Disconnect(ctx); err != nil {
		log.Warn().Str("component", "main").Err(err).Msg("disconnecting from MongoDB")
	}
}
