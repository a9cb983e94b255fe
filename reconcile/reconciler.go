package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/fscall"
	fssync "github.com/projectwatcher/watcher/sync"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/time/rate"
)

// ErrRepairsFailed is wrapped by Run's error when some repairs failed (the
// others were made; the summary counts both).
var ErrRepairsFailed = errors.New("reconcile: some repairs failed")

// Reconciler finds and repairs orphans and drifted copies. One Reconciler
// runs one reconciliation at a time.
type Reconciler struct {
	mu      sync.Mutex // one run at a time
	cfg     config.Sync
	scan    *scanner
	find    *finder
	applier watcher.Applier
	opts    Options
	log     zerolog.Logger
	targets map[string][]Target // collection → its copies
}

// New returns a Reconciler scanning the collections of cfg in fs, looking
// projects up in projects, and repairing through applier (nil is allowed
// with DryRun only). applier must prepare each repair right before it
// applies it (watcher.Prepare): Prepared(resolver, applier) for a
// standalone run, the running watcher (watcher.Watcher.Apply) in the
// daemon. The repairs carry the fields to copy as Lookup, not values.
func New(fs *firestore.Client, projects *mongo.Collection, cfg config.Sync, applier watcher.Applier, log zerolog.Logger, opts Options) (*Reconciler, error) {
	if fs == nil || projects == nil {
		return nil, errors.New("reconcile: a Firestore client and the projects collection are required")
	}
	if applier == nil && !opts.DryRun {
		return nil, errors.New("reconcile: an applier is required unless DryRun is set")
	}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	idField := strings.Split(cfg.IDField, ".")
	if slices.Contains(idField, "") {
		return nil, fmt.Errorf("reconcile: sync.idField %q is not a field path", cfg.IDField)
	}
	log = log.With().Str("component", "reconcile").Logger()
	r := &Reconciler{
		cfg: cfg, applier: applier, opts: opts, log: log,
		targets: targetsByCollection(cfg),
		scan: &scanner{
			client: fs, idField: firestore.FieldPath(idField),
			archive: cfg.Mode == fssync.ModeArchive, pageSize: opts.PageSize,
			call: fscall.New(opts.CallTimeout),
		},
	}
	if opts.PagesPerSecond > 0 {
		r.scan.limiter = rate.NewLimiter(rate.Limit(opts.PagesPerSecond), 1)
	}
	var sources []string
	for _, f := range cfg.Fields {
		if !slices.Contains(sources, f.Source) {
			sources = append(sources, f.Source)
		}
	}
	r.find = newFinder(projects, sources, log)
	return r, nil
}

// targetsByCollection lists the copies configured for each collection.
func targetsByCollection(cfg config.Sync) map[string][]Target {
	out := map[string][]Target{}
	for _, c := range cfg.Copies() {
		out[c.Collection] = append(out[c.Collection], Target{Source: c.Source, Path: c.Target})
	}
	return out
}

// Run reconciles every configured collection, in order, and returns what it
// found and repaired. A failed lookup stops the run (nothing is repaired on
// its account), and so do the end of ctx and a watcher that no longer runs
// (watcher.ErrNotRunning); a failed repair is logged and counted and the
// run goes on, and Run then returns an error wrapping ErrRepairsFailed; a
// repair the existence rules refuse is skipped (counted, listed, no error).
// Concurrent calls run one after the other.
func (r *Reconciler) Run(ctx context.Context) (Summary, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run := &runState{r: r, sum: Summary{DryRun: r.opts.DryRun, Started: time.Now().UTC()}}
	for _, c := range r.cfg.Collections {
		run.sum.Collections = append(run.sum.Collections, CollectionSummary{Collection: c.Name})
	}
	r.log.Info().Bool("dryRun", r.opts.DryRun).Bool("orphans", r.opts.Checks.Orphans).Bool("drift", r.opts.Checks.Drift).
		Int("collections", len(r.cfg.Collections)).Msg("reconciliation started")
	var err error
	for i, c := range r.cfg.Collections {
		if err = run.collection(ctx, i, c); err != nil {
			run.sum.addError(err.Error())
			break
		}
	}
	run.sum.Duration = time.Since(run.sum.Started)
	run.sum.total()
	if err == nil && run.sum.Totals.Failed > 0 {
		err = fmt.Errorf("%w: %d projects could not be repaired", ErrRepairsFailed, run.sum.Totals.Failed)
	}
	t := run.sum.Totals
	ev, msg := r.log.Info(), "reconciliation finished"
	switch {
	case ctx.Err() != nil:
		// Cancelled: a stop, or (the daemon) the end of the lease term or
		// of the watcher's run. No repair starts after this.
		ev, msg = r.log.Warn().AnErr("cause", context.Cause(ctx)), "reconciliation stopped before it finished; no further repair is made"
	case err != nil:
		ev = r.log.Error().Err(err)
	}
	ev.Bool("dryRun", r.opts.DryRun).Int("scanned", t.Scanned).Int("orphans", t.Orphans).Int("drifted", t.Drifted).
		Int("repaired", t.Repaired).Int("invalid", t.Invalid).Int("failedRepairs", t.Failed).Int("skippedRepairs", t.Skipped).
		Float64("durationMs", float64(run.sum.Duration.Microseconds())/1000).Msg(msg)
	return run.sum, err
}

// runState is one run's progress.
type runState struct {
	r   *Reconciler
	sum Summary
}

func (run *runState) collSum(name string) *CollectionSummary {
	for i := range run.sum.Collections {
		if run.sum.Collections[i].Collection == name {
			return &run.sum.Collections[i]
		}
	}
	return nil
}

// collection scans one collection, looking ids up and repairing batch by
// batch.
func (run *runState) collection(ctx context.Context, i int, c config.Collection) error {
	r := run.r
	targets := r.targets[c.Name]
	if !r.opts.Checks.Drift {
		targets = nil
	}
	if r.opts.Progress != nil {
		total, err := r.scan.count(ctx, c)
		if err != nil {
			r.log.Warn().Err(err).Str("collection", c.Name).Msg("cannot count the collection; progress without a total")
			total = -1
		}
		r.opts.Progress.Start(c.Name, total)
	}
	var (
		docs []Doc
		ids  []string
		seen = map[string]bool{}
	)
	flush := func() error {
		if len(docs) == 0 {
			return nil
		}
		err := run.batch(ctx, c.Name, targets, docs, ids)
		docs, ids, seen = nil, nil, map[string]bool{}
		return err
	}
	err := r.scan.scan(ctx, c, targets, func(page []Doc) error {
		run.sum.Collections[i].Scanned += len(page)
		if r.opts.Progress != nil {
			r.opts.Progress.Add(len(page))
		}
		for _, d := range page {
			docs = append(docs, d)
			if pid, ok := ValidID(d.ProjectID); ok && d.HasID && !seen[pid] {
				seen[pid] = true
				ids = append(ids, pid)
			}
			if len(ids) >= r.opts.BatchSize || len(docs) >= r.opts.BatchSize*pendingDocsPerID {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	cs := run.sum.Collections[i]
	if r.opts.Progress != nil {
		r.opts.Progress.Done(cs)
	}
	r.log.Info().Str("collection", c.Name).Int("scanned", cs.Scanned).Int("orphans", cs.Orphans).Int("drifted", cs.Drifted).
		Int("repaired", cs.Repaired).Int("invalid", cs.Invalid).Int("skippedRepairs", cs.Skipped).Msg("collection reconciled")
	return err
}

// batch looks the ids up, plans, and repairs.
func (run *runState) batch(ctx context.Context, coll string, targets []Target, docs []Doc, ids []string) error {
	r := run.r
	look, err := r.find.find(ctx, ids)
	if err != nil {
		// Never an orphan because a lookup failed: stop here.
		return fmt.Errorf("collection %s: %w", coll, err)
	}
	plan := Plan(targets, docs, look, r.opts.Checks)
	cs := run.collSum(coll)
	cs.NoID += plan.NoID
	cs.Invalid += len(plan.Invalid)
	for _, path := range plan.Invalid {
		if len(run.sum.InvalidDocs) < maxListed {
			run.sum.InvalidDocs = append(run.sum.InvalidDocs, path)
			r.log.Warn().Str("collection", coll).Str("document", path).Str("idField", r.cfg.IDField).
				Msg("asset document with an invalid project id (empty, not a string, or an ObjectID's hex in uppercase); not repaired, needs a look")
		}
	}
	if err := run.orphans(ctx, coll, plan.Orphans); err != nil {
		return err
	}
	if err := run.drift(ctx, coll, plan.Drift); err != nil {
		return err
	}
	return ctx.Err()
}

// account adds a repair's report to the summaries. A repair covers the
// project in every collection: documents it changed beyond those found in
// this batch (later pages, collections not scanned yet, whose scan will no
// longer see them: deleted) are counted as found there too, and, when the
// repair deleted them (gone), as scanned: the counts of a run that repairs
// match those of a dry run, and a collection never shows more found than
// scanned.
func (run *runState) account(coll string, foundHere int, gone bool, rep event.Report,
	changed func(event.CollectionReport) int, add func(c *CollectionSummary, extraFound, repaired int)) {
	for _, cr := range rep.Collections {
		cs := run.collSum(cr.Collection)
		if cs == nil {
			continue
		}
		n := changed(cr)
		cs.Repaired += n
		extra := n
		if cr.Collection == coll {
			extra -= foundHere
		}
		extra = max(extra, 0)
		if gone {
			cs.Scanned += extra // deleted by the repair before the scan came
		}
		add(cs, extra, n)
	}
}

// cleaned counts the asset documents a cleanup handled in a collection:
// archived ones in archive mode; in delete mode the matched documents that
// were deleted (Deleted also counts their subcollection documents).
func cleaned(mode string) func(event.CollectionReport) int {
	if mode == fssync.ModeArchive {
		return func(c event.CollectionReport) int { return c.Archived }
	}
	return func(c event.CollectionReport) int { return min(c.Matched, c.Deleted) }
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
