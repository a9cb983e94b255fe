package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/fscall"
	"github.com/rs/zerolog"
)

// Cleanup modes (config sync.mode).
const (
	ModeDelete  = "delete"
	ModeArchive = "archive"
)

// ArchivedField is set to true by archive mode, with archivedAtField (the
// server's time of the first archiving).
const (
	ArchivedField   = "archived"
	archivedAtField = "archivedAt"
)

// Applier applies project events to the Firestore asset collections.
// It is safe for concurrent use.
type Applier struct {
	client  *firestore.Client
	cfg     config.Sync
	log     zerolog.Logger
	opts    options
	limit   fscall.Limit        // firestore.callTimeout of every call
	targets map[string][]target // source path → its copies
	idPath  firestore.FieldPath // cfg.IDField
	dryLog  zerolog.Logger      // a dry run's lines (see WithDryRun)
}

// New checks cfg and returns an Applier writing through client.
func New(client *firestore.Client, cfg config.Sync, log zerolog.Logger, opts ...Option) (*Applier, error) {
	if client == nil {
		return nil, errors.New("sync: nil Firestore client")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sync: invalid config: %w", err)
	}
	targets := indexCopies(cfg)
	a := &Applier{
		client:  client,
		cfg:     cfg,
		log:     log.With().Str("component", "sync").Logger(),
		opts:    o,
		limit:   fscall.New(o.callTimeout),
		targets: targets,
		idPath:  idPath(cfg),
		dryLog:  log.With().Str("component", "dryrun").Logger(),
	}
	return a, nil
}

// Apply implements watcher.Applier: a ProjectDeleted cleans up the
// project's documents (deleteProject), a ProjectUpdated rewrites their
// copies of ev.Set and ev.Unset (updateProject). An empty project id is
// refused before any query (event.ErrEmptyProjectID).
//
// With WithLimit, an event that would touch more of the project's
// documents than the limit writes nothing and fails with an error wrapping
// event.ErrSafetyLimit; with WithDryRun nothing is written.
func (a *Applier) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	if strings.TrimSpace(ev.ProjectID) == "" {
		return event.Report{}, event.ErrEmptyProjectID
	}
	switch ev.Kind {
	case event.ProjectDeleted:
		return a.deleteCreatedBy(ctx, ev.ProjectID, ev.CreatedBy)
	case event.ProjectUpdated:
		return a.updateProject(ctx, ev.ProjectID, ev.Set, ev.Unset)
	}
	return event.Report{}, fmt.Errorf("sync: event kind %d of project %s: unknown", int(ev.Kind), ev.ProjectID)
}
