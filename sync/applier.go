package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/fscall"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
	lastErr atomic.Pointer[callResult]
	dryLog  zerolog.Logger // a dry run's lines (see WithDryRun)
}

// callResult boxes the outcome of the last Firestore call.
type callResult struct{ err error }

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
		dryLog:  log.With().Str("component", "dryrun").Logger(),
	}
	a.lastErr.Store(&callResult{})
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
		return a.deleteProject(ctx, ev.ProjectID)
	case event.ProjectUpdated:
		return a.updateProject(ctx, ev.ProjectID, ev.Set, ev.Unset)
	}
	return event.Report{}, fmt.Errorf("sync: event kind %d of project %s: unknown", int(ev.Kind), ev.ProjectID)
}

// LastCallErr is nil when the most recent Firestore call succeeded (for
// readiness probes). Calls canceled by the caller (shutdown) are ignored;
// calls that ran out of time are failures.
func (a *Applier) LastCallErr() error {
	return a.lastErr.Load().err
}

// record remembers the outcome of a Firestore call made under ctx. An
// error that is Firestore's answer about the data (an invalid value, a
// document gone) proves Firestore reachable and counts as a success here.
func (a *Applier) record(ctx context.Context, err error) {
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return // the caller gave up; says nothing about Firestore
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition, codes.OutOfRange:
		err = nil
	}
	a.lastErr.Store(&callResult{err: err})
}
