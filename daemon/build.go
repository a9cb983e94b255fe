package daemon

import (
	"context"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/health"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// running is the daemon built on a Daemon's clients, ready to run.
type running struct {
	cfg   config.Config // the Daemon's, with a dry run's lease turned off
	d     *Daemon
	hs    *health.Server
	fails *metrics.Failures
	rec   *daemonReconcile
	state *state
	in    *instance
	bus   *busPublisher  // bus.mode publish; nil: direct
	log   zerolog.Logger // component main
}

// build assembles the daemon on d: the metrics on reg, the background
// reconciliation, the pipeline every run of the watcher shares, the
// instance that runs it (alone or under leader election), and the health
// server with its checks (listening, not serving yet).
func build(d *Daemon, reg *prometheus.Registry, log zerolog.Logger) (*running, error) {
	cfg := withoutLeaseInDryRun(d.Config(), log)
	if err := metrics.RegisterRuntime(reg); err != nil {
		return nil, err
	}
	m, err := metrics.New(reg)
	if err != nil {
		return nil, err
	}
	fails, err := metrics.NewFailures(reg)
	if err != nil {
		return nil, err
	}
	lm, err := metrics.NewLeadership(reg)
	if err != nil {
		return nil, err
	}
	rec, err := newDaemonReconcile(cfg, d, reg, log)
	if err != nil {
		return nil, err
	}
	r := &running{cfg: cfg, d: d, fails: fails, rec: rec, state: newState(lm),
		hs:  health.New(cfg.HTTP.Addr, reg, log, health.WithPprof(cfg.HTTP.Pprof)),
		log: log.With().Str("component", "main").Logger()}
	pipe := &pipeline{
		cfg:           cfg,
		projects:      d.Projects(),
		resolver:      d.Resolver(),
		applier:       d.Applier(),
		deadLetters:   deadLetters(d.DeadLetters(), cfg, log),
		observer:      watcher.Observers{m, watcher.HeartbeatFunc(r.hs.Beat), errorRecorder{r.state}},
		failures:      fails,
		onHistoryLost: rec.historyLostHook(cfg.Resume),
		log:           log,
	}
	if r.bus, err = newBusPublisher(cfg, d.Applier(), reg, log); err != nil {
		return nil, err
	}
	r.bus.use(pipe, r.hs)
	if r.in, err = newInstance(cfg, d.mongo, d.Checkpoints(), pipe, r.state, log); err != nil {
		return nil, err
	}
	r.addChecks()
	if err := r.hs.Listen(); err != nil {
		return nil, err
	}
	return r, nil
}

// withoutLeaseInDryRun turns the lease off for a dry run: it writes
// nothing, so it needs no lease and must not take it from the real watcher.
func withoutLeaseInDryRun(cfg config.Config, log zerolog.Logger) config.Config {
	if cfg.Safety.DryRun && cfg.Lease.Enabled {
		log.Warn().Str("component", "main").Msg("safety.dryRun: lease.enabled is ignored; the dry run never takes the lease")
		cfg.Lease.Enabled = false
	}
	return cfg
}

// addChecks registers what /readyz, /healthz and /status report.
func (r *running) addChecks() {
	hs, st := r.hs, r.state
	hs.AddCheck("mongo", func(ctx context.Context) error { return r.d.mongo.Ping(ctx, readpref.Primary()) })
	hs.AddCheck("changeStream", st.streamErr)
	hs.SetRole(st.roleName)
	hs.SetStatus(statusProvider(r.cfg, r.d.DeadLetters(), st))
	hs.AddCheck("firestore", func(context.Context) error { return r.d.Applier().LastCallErr() })
	hs.AddCheck("reconcile", r.rec.readiness)
	wd := health.NewWatchdog(st.progress, r.cfg.Health.StallTimeout, nil)
	hs.AddLivenessCheck("progress", wd.Check)
	hs.AddCheck("progress", wd.Check)
}
