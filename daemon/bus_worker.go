package daemon

import (
	"context"
	"errors"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/projectwatcher/watcher/bus"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/health"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// RunWorker runs `watcher worker`: it opens the clients (MongoDB for the
// projects and the dead letters, Firestore metered, Pub/Sub), receives the
// events from bus.subscription and applies them with the applier chain of
// direct mode, serves /healthz, /readyz, /status and /metrics, and stops
// everything it started when ctx ends (after the drain). A worker needs no
// lease: run as many as you like.
func RunWorker(ctx context.Context, cfg config.Config, log zerolog.Logger, opts ...RunOption) error {
	var ro runOptions
	for _, o := range opts {
		o(&ro)
	}
	reg := prometheus.NewRegistry()
	fsHealth := fsmeter.NewHealth()
	fsHealth.OnChange(logFirestoreChanges(log))
	calls, err := metrics.NewFirestoreCalls(reg, fsHealth)
	if err != nil {
		return err
	}
	d, err := Open(ctx, cfg, log, WithFirestoreMeter(calls, fsHealth))
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	if ro.build.Version != "" {
		if err := metrics.RegisterBuildInfo(reg, ro.build); err != nil {
			return err
		}
	}
	c, err := bus.Dial(ctx, cfg.BusProjectID())
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	wk, err := buildWorker(d, c, reg, ro.build, log)
	if err != nil {
		return err
	}
	stop := wk.serve(ctx)
	runErr := wk.w.Run(ctx)
	return errors.Join(runErr, stop())
}

// worker is a built `watcher worker`.
type worker struct {
	w       *bus.Worker
	hs      *health.Server
	fails   *metrics.Failures
	fsCheck *firestoreCheck
	d       *Daemon
	log     zerolog.Logger
}

// buildWorker assembles the worker on d's clients and c: its metrics on
// reg and the health server with its checks (listening, not serving yet).
func buildWorker(d *Daemon, c *pubsub.Client, reg *prometheus.Registry, b metrics.Build, log zerolog.Logger) (*worker, error) {
	cfg := d.Config()
	if err := metrics.RegisterRuntime(reg); err != nil {
		return nil, err
	}
	fails, err := metrics.NewFailures(reg)
	if err != nil {
		return nil, err
	}
	wm, err := metrics.NewBusWorker(reg)
	if err != nil {
		return nil, err
	}
	w, err := bus.NewWorker(c, bus.WorkerOptions{
		Subscription: cfg.Bus.Subscription, DeadSubscription: cfg.Bus.DeadLetterTopic,
		Resolver: d.Resolver(), Applier: d.Applier(), DeadLetters: deadLetters(d.DeadLetters(), cfg, log),
		Retry: watcher.RetryPolicy{InitialBackoff: cfg.Retry.InitialBackoff, MaxBackoff: cfg.Retry.MaxBackoff,
			MaxAttempts: cfg.Retry.MaxAttempts},
		Concurrency: cfg.Sync.Workers, DrainTimeout: cfg.Shutdown.DrainTimeout,
		MaxDeliveryAttempts: cfg.Bus.MaxDeliveryAttempts, Observer: wm, Failures: fails, Logger: log,
		DryRun: cfg.Safety.DryRun, Dependencies: dependencies{firestore: d.FirestoreHealth(), mongo: d.mongoHealth},
	})
	if err != nil {
		return nil, err
	}
	wm.Track(w)
	hs := health.New(cfg.HTTP.Addr, reg, log, health.WithPprof(cfg.HTTP.Pprof))
	hs.AddCheck("mongo", func(ctx context.Context) error { return d.mongo.Ping(ctx, readpref.Primary()) })
	fsCheck := newFirestoreCheck(d.Firestore(), cfg, log, func(error) {})
	hs.AddCheck("firestore", func(ctx context.Context) error {
		if err := fsCheck.readiness(ctx); err != nil {
			return err
		}
		return d.FirestoreHealth().Err()
	})
	hs.AddCheck("pubsub", w.Ready)
	hs.SetRole(func() string { return "worker" })
	hs.SetStatus(workerStatus(cfg, b, d.DeadLetters(), w))
	wd := health.NewWatchdog(w.Progress, cfg.Health.StallTimeout, nil)
	hs.AddLivenessCheck("progress", wd.Check)
	hs.AddCheck("progress", wd.Check)
	if err := hs.Listen(); err != nil {
		return nil, err
	}
	return &worker{w: w, hs: hs, fails: fails, fsCheck: fsCheck, d: d, log: log.With().Str("component", "main").Logger()}, nil
}

// serve starts the HTTP server, the count of dead letters and the
// heartbeat; the returned stop ends them and returns the server's error.
func (wk *worker) serve(ctx context.Context) (stop func() error) {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var httpErr error
	wg.Add(3)
	wg.Go(func() { wk.fsCheck.run(bg) })
	go func() {
		defer wg.Done()
		httpErr = wk.hs.Serve(bg)
	}()
	go func() {
		defer wg.Done()
		wk.fails.Run(bg, wk.d.DeadLetters(), time.Minute, func(err error) {
			wk.log.Warn().Err(err).Msg("counting the dead letters failed")
		})
	}()
	go func() {
		defer wg.Done()
		beat(bg, wk.hs)
	}()
	return func() error {
		cancel()
		wg.Wait()
		return httpErr
	}
}

// beat marks the worker alive every second until ctx ends; the progress
// watchdog (health.stallTimeout) tells a stuck apply.
func beat(ctx context.Context, hs *health.Server) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		hs.Beat()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// workerStatusDoc is a worker's /status document.
type workerStatusDoc struct {
	Role                 string         `json:"role"` // worker
	Build                buildStatus    `json:"build"`
	Subscription         string         `json:"subscription"`
	InFlight             int            `json:"inFlight"`             // messages received, not yet answered
	OldestUnackedSeconds float64        `json:"oldestUnackedSeconds"` // now − publish time of the oldest of them
	DeadLetters          *int64         `json:"deadLetters"`          // documents in deadLetter.collection; null when unreadable
	LastError            string         `json:"lastError,omitempty"`
	Config               map[string]any `json:"config"`
}

func workerStatus(cfg config.Config, b metrics.Build, dl *deadletter.Store, w *bus.Worker) health.StatusFunc {
	summary := configSummary(cfg)
	summary["bus"] = map[string]any{"projectId": cfg.BusProjectID(), "subscription": cfg.Bus.Subscription,
		"deadLetterTopic": cfg.Bus.DeadLetterTopic, "maxDeliveryAttempts": cfg.Bus.MaxDeliveryAttempts}
	return func(ctx context.Context) any {
		doc := workerStatusDoc{Role: "worker", Build: buildStatus{Version: b.Version, Commit: b.Commit, GoVersion: b.GoVersion},
			Subscription: cfg.Bus.Subscription, Config: summary,
			OldestUnackedSeconds: w.OldestUnacked().Seconds()}
		doc.InFlight, _ = w.Progress()
		if n, err := dl.Count(ctx); err == nil {
			doc.DeadLetters = &n
		} else {
			doc.LastError = err.Error()
		}
		if err := w.Ready(ctx); err != nil {
			doc.LastError = err.Error()
		}
		return doc
	}
}
