package daemon

import (
	"context"
	"time"

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
	cfg     config.Config // the Daemon's, with a dry run's lease turned off
	d       *Daemon
	hs      *health.Server
	fails   *metrics.Failures
	rec     *daemonReconcile
	state   *state
	fsCheck *firestoreCheck
	in      *instance
	bus     *busPublisher  // bus.mode publish; nil: direct
	build   metrics.Build  // the binary, for /status
	log     zerolog.Logger // component main
}

// build assembles the daemon on d: the metrics on reg, the background
// reconciliation, the pipeline every run of the watcher shares, the
// instance that runs it (alone or under leader election), and the health
// server with its checks (listening, not serving yet).
func build(d *Daemon, reg *prometheus.Registry, log zerolog.Logger, ro runOptions) (*running, error) {
	cfg := withoutLeaseInDryRun(d.Config(), log)
	if err := metrics.RegisterRuntime(reg); err != nil {
		return nil, err
	}
	var refused func() int64
	if d.writes != nil {
		refused = d.writes.Refused
	}
	lm, err := metrics.NewLeadership(reg, refused)
	if err != nil {
		return nil, err
	}
	st := newState(lm)
	m, err := metrics.New(reg, metrics.WithLag(st.lag))
	if err != nil {
		return nil, err
	}
	fails, err := metrics.NewFailures(reg)
	if err != nil {
		return nil, err
	}
	rec, err := newDaemonReconcile(cfg, d, st, reg, log)
	if err != nil {
		return nil, err
	}
	r := &running{cfg: cfg, d: d, fails: fails, rec: rec, state: st, build: ro.build,
		hs:  health.New(cfg.HTTP.Addr, reg, log, health.WithPprof(cfg.HTTP.Pprof)),
		log: log.With().Str("component", "main").Logger()}
	r.fsCheck = newFirestoreCheck(d.Firestore(), cfg, log, r.state.recordError)
	d.FirestoreHealth().OnChange(func(err error) {
		if err != nil {
			r.state.recordError(err)
		}
	})
	pipe := &pipeline{
		cfg:           cfg,
		projects:      d.Projects(),
		resolver:      d.Resolver(),
		applier:       d.Applier(),
		deadLetters:   deadLetters(d.DeadLetters(), cfg, log),
		observer:      watcher.Observers{m, watcher.HeartbeatFunc(r.hs.Beat), errorRecorder{r.state}},
		failures:      fails,
		onHistoryLost: rec.historyLostHook(cfg.Resume),
		dependencies:  dependencies{firestore: d.FirestoreHealth(), mongo: d.mongoHealth},
		stopNow:       ro.stopNow,
		drainTimeout:  drainTimeout(cfg, log),
		log:           log,
	}
	if r.bus, err = newBusPublisher(cfg, d.Applier(), reg, log); err != nil {
		return nil, err
	}
	r.bus.use(pipe, r.hs)
	if r.in, err = newInstance(cfg, d.mongo, d.Checkpoints(), d.writes, pipe, r.state, log); err != nil {
		return nil, err
	}
	r.in.beside = rec.periodic // bound to each run of the watcher, so to the lease term
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
	checks := dependencyChecks{
		mongo:        func(ctx context.Context) error { return r.d.mongo.Ping(ctx, readpref.Primary()) },
		changeStream: st.streamErr,
		firestore:    r.firestoreErr,
	}
	hs.AddCheck("mongo", checks.mongo)
	hs.AddCheck("changeStream", checks.changeStream)
	hs.AddCheck("firestore", checks.firestore)
	hs.SetRole(st.roleName)
	hs.SetStatus(statusProvider(r.cfg, r.build, r.d.DeadLetters(), st, checks))
	hs.AddCheck("reconcile", r.rec.readiness)
	wd := health.NewWatchdog(st.progress, r.cfg.Health.StallTimeout, nil)
	hs.AddLivenessCheck("progress", wd.Check)
	hs.AddCheck("progress", wd.Check)
}

// firestoreErr is the firestore readiness check: the start-up check until
// it passed, then whether Firestore answers the RPCs (fsmeter.Health).
func (r *running) firestoreErr(ctx context.Context) error {
	if err := r.fsCheck.readiness(ctx); err != nil {
		return err
	}
	return r.d.FirestoreHealth().Err()
}

// drainTimeout is shutdown.drainTimeout, capped with leases at 7/10 of
// lease.ttl: below ttl − ttl/5, when the lease would be given up if its
// renewals failed, so a leader never writes into its successor's term.
func drainTimeout(cfg config.Config, log zerolog.Logger) time.Duration {
	d := cfg.Shutdown.DrainTimeout
	if cap := cfg.Lease.TTL * 7 / 10; cfg.Lease.Enabled && d > cap {
		log.Warn().Str("component", "main").Int64("drainTimeoutMs", d.Milliseconds()).Int64("capMs", cap.Milliseconds()).
			Msg("shutdown.drainTimeout is above 7/10 of lease.ttl; the drain is capped there so the lease outlives it")
		d = cap
	}
	return d
}
