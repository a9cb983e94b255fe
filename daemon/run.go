package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/health"
	"github.com/projectwatcher/watcher/lease"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/projectwatcher/watcher/source"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
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
	d, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	mc, fs, projects, applier, store := d.mongo, d.firestore, d.projects, d.applier, d.checkpoints

	reg := prometheus.NewRegistry()
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
	dead := deadLetters(d.DeadLetters(), cfg, log)
	hs := health.New(cfg.HTTP.Addr, reg, log, health.WithPprof(cfg.HTTP.Pprof))
	if err := hs.Listen(); err != nil {
		return err
	}

	fields := make([]string, 0, len(cfg.Sync.Fields))
	for _, f := range cfg.Sync.Fields {
		fields = append(fields, f.Source)
	}
	wopts := watcher.Options{
		Source:             source.NewSource(projects, cfg.Resume.StartAt, log),
		Resolver:           d.Resolver(),
		Applier:            applier,
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
	newSource := func() watcher.ChangeSource { return source.NewSource(projects, cfg.Resume.StartAt, log) }
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
	go fm.Run(countCtx, d.DeadLetters(), time.Minute, func(err error) {
		log.Warn().Str("component", "main").Err(err).Msg("counting the dead letters failed")
	})

	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(httpCtx) }()

	rec.start(func() bool { r, _ := in.Role(); return r == lease.RoleLeader })
	runErr := in.run(ctx)
	rec.stop()
	stopHTTP()
	return errors.Join(runErr, <-httpDone)
}
