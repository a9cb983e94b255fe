package daemon

import (
	"context"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/event"
	fssync "github.com/projectwatcher/watcher/sync"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// ApplierChain is the applier the events go through: the safety limit
// (safety.maxDocsPerEvent) around the Firestore applier, or around the dry
// run (safety.dryRun), so a dry run also reports what the limit would stop.
func ApplierChain(a *fssync.Applier, safety config.Safety, log zerolog.Logger) *fssync.Limited {
	var inner fssync.BoundedApplier = a
	if safety.DryRun {
		inner = fssync.NewDryRun(a, log)
	}
	return fssync.NewLimited(inner, safety.MaxDocsPerEvent)
}

func DeadLetterCollection(mc *mongo.Client, cfg config.Config) *mongo.Collection {
	return mc.Database(cfg.DeadLetter.Database).Collection(cfg.DeadLetter.Collection)
}

// deadLetters is where failed events go. A dry run only logs them: its
// events are replayed by the real watcher, which parks them itself.
func deadLetters(mc *mongo.Client, cfg config.Config, log zerolog.Logger) watcher.DeadLetterStore {
	if cfg.Safety.DryRun {
		return loggedDeadLetters{log: log.With().Str("component", "dryrun").Logger()}
	}
	return deadletter.New(DeadLetterCollection(mc, cfg))
}

type loggedDeadLetters struct{ log zerolog.Logger }

func (l loggedDeadLetters) Add(_ context.Context, d event.DeadLetter) error {
	l.log.Warn().Bool("dryRun", true).Str("projectId", d.ProjectID).Str("kind", d.Kind).Str("reason", d.Reason).
		Str("error", d.Error).Msg("dry run: would dead-letter the event; nothing written")
	return nil
}
