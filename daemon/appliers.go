package daemon

import (
	"context"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/event"
	fssync "github.com/projectwatcher/watcher/sync"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
)

// NewApplier is the applier the events go through: the Firestore applier
// with firestore.callTimeout on every call, the safety limit (safety.maxDocsPerEvent) and, with safety.dryRun,
// as a dry run (which also reports what the limit would stop). force
// leaves the limit out ("watcher dlq retry --force").
func NewApplier(fs *firestore.Client, cfg config.Config, log zerolog.Logger, force bool) (*fssync.Applier, error) {
	opts := []fssync.Option{fssync.WithCallTimeout(cfg.Firestore.CallTimeout)}
	if !force {
		opts = append(opts, fssync.WithLimit(cfg.Safety.MaxDocsPerEvent))
	}
	if cfg.Safety.DryRun {
		opts = append(opts, fssync.WithDryRun())
	}
	return fssync.New(fs, cfg.Sync, log, opts...)
}

// deadLetters is where the watcher's failed events go: store. A dry run
// only logs them: its events are replayed by the real watcher, which parks
// them itself.
func deadLetters(store *deadletter.Store, cfg config.Config, log zerolog.Logger) watcher.DeadLetterStore {
	if cfg.Safety.DryRun {
		return loggedDeadLetters{log: log.With().Str("component", "dryrun").Logger()}
	}
	return store
}

type loggedDeadLetters struct{ log zerolog.Logger }

func (l loggedDeadLetters) Add(_ context.Context, d event.DeadLetter) error {
	l.log.Warn().Bool("dryRun", true).Str("projectId", d.ProjectID).Str("kind", d.Kind).Str("reason", d.Reason).
		Str("error", d.Error).Msg("dry run: would dead-letter the event; nothing written")
	return nil
}
