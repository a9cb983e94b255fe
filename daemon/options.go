package daemon

import (
	"context"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/source"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// pipeline is what every run of the watcher shares, built once by build:
// the parts on the Daemon's clients, the observers and the repair after a
// lost history. watcherOptions turns it into one run's options.
type pipeline struct {
	cfg         config.Config
	projects    *mongo.Collection
	resolver    watcher.ProjectReader
	applier     watcher.Applier
	deadLetters watcher.DeadLetterStore // a dry run's only logs
	observer    watcher.Observer        // metrics, liveness beat, /status errors
	failures    watcher.FailureObserver
	// onHistoryLost repairs after a lost history (resume.onHistoryLost:
	// reconcile); nil: a lost history stops the watcher.
	onHistoryLost func(ctx context.Context) error
	dependencies  watcher.Dependencies // are Firestore and MongoDB (and Pub/Sub, publishing) answering?
	stopNow       <-chan struct{}      // a second signal: end the drain at once
	drainTimeout  time.Duration        // shutdown.drainTimeout (capped under a lease)
	log           zerolog.Logger
}

// watcherOptions returns the options of one run of the watcher. It is the
// only place they are written, and nothing changes them afterwards. What
// differs between runs comes in as arguments: store is the checkpoint store
// of the run (the configured store; a dry run's memory store; a lease
// term's fenced store) and abort is closed when the run must stop at once
// (its lease term was lost; nil without leases). Each run gets its own
// change streams (Source, RestartSource): a stream belongs to one run.
func (p *pipeline) watcherOptions(store watcher.TokenStore, abort <-chan struct{}) watcher.Options {
	var restart watcher.ChangeSource
	if p.onHistoryLost != nil {
		restart = source.NewSource(p.projects, "now", p.log) // after a lost history: from now
	}
	return watcher.Options{
		Source:             source.NewSource(p.projects, p.cfg.Resume.StartAt, p.log),
		Resolver:           p.resolver,
		Applier:            p.applier,
		Store:              store,
		Observer:           p.observer,
		Fields:             sourceFields(p.cfg.Sync),
		Workers:            p.cfg.Sync.Workers,
		QueueSize:          0, // the watcher's default
		CheckpointInterval: p.cfg.Resume.CheckpointInterval,
		DrainTimeout:       p.drainTimeout,
		StopNow:            p.stopNow,
		DryRun:             p.cfg.Safety.DryRun,
		StartAt:            p.cfg.Resume.StartAt,
		Logger:             p.log,
		Retry: watcher.RetryPolicy{
			InitialBackoff: p.cfg.Retry.InitialBackoff,
			MaxBackoff:     p.cfg.Retry.MaxBackoff,
			MaxAttempts:    p.cfg.Retry.MaxAttempts,
		},
		DeadLetters:   p.deadLetters,
		Failures:      p.failures,
		Dependencies:  p.dependencies,
		Abort:         abort,
		OnHistoryLost: p.onHistoryLost,
		RestartSource: restart,
	}
}

// sourceFields are the configured source field paths (sync.fields[].source).
func sourceFields(cfg config.Sync) []string {
	fields := make([]string, 0, len(cfg.Fields))
	for _, f := range cfg.Fields {
		fields = append(fields, f.Source)
	}
	return fields
}
