package reconcile

import (
	"context"
	"errors"
	"fmt"

	fssync "github.com/projectwatcher/watcher/sync"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
)

// A repair is an event like the stream's, prepared right before it is
// applied (watcher.Prepare): an orphan's cleanup is a ProjectDeleted that
// names no raw _id, so it is refused (project-exists) when a project with
// the id exists in either form by then; a drift repair is a ProjectUpdated
// naming the project's _id and the fields to copy as Lookup, so the values
// written are those read right before the write, and it is refused when a
// twin (the other form of the id) lives. A refused repair writes nothing and
// is counted as skipped, with its reason.

// Prepared returns the Applier the standalone "watcher reconcile" repairs
// through: each event is prepared with reader (source.Resolver: the primary,
// majority read) right before applier applies it. The daemon repairs
// through its running watcher instead (watcher.Watcher.Apply), whose
// workers prepare every event the same way, in its project's order with
// the stream's events.
func Prepared(reader watcher.ProjectReader, applier watcher.Applier) watcher.Applier {
	return prepared{reader: reader, applier: applier}
}

type prepared struct {
	reader  watcher.ProjectReader
	applier watcher.Applier
}

func (p prepared) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	if err := watcher.Prepare(ctx, p.reader, &ev); err != nil {
		return event.Report{}, err
	}
	return p.applier.Apply(ctx, ev)
}

// orphans cleans up the batch's orphans (reports them in a dry run).
func (run *runState) orphans(ctx context.Context, coll string, orphans map[string]int) error {
	r := run.r
	cs := run.collSum(coll)
	for _, pid := range sortedKeys(orphans) {
		n := orphans[pid]
		cs.Orphans += n
		log := r.log.With().Str("collection", coll).Str("projectId", pid).Int("documents", n).Logger()
		if r.opts.DryRun {
			log.Info().Msg("orphan: the project does not exist (dry run: not cleaned)")
			continue
		}
		log.Info().Str("mode", r.cfg.Mode).Msg("orphan: the project does not exist; cleaning up its assets")
		rep, err := r.applier.Apply(ctx, event.Event{Kind: event.ProjectDeleted, ProjectID: pid, Op: "reconcile"})
		run.account(coll, n, r.cfg.Mode == fssync.ModeDelete, rep, cleaned(r.cfg.Mode), func(c *CollectionSummary, extra, repaired int) {
			c.Orphans += extra
			c.RepairedOrphans += repaired
		})
		if err := run.outcome(ctx, coll, pid, "cleaning up", "cleaning up an orphan failed", log, err); err != nil {
			return err
		}
	}
	return nil
}

// drift rewrites the batch's drifted copies (reports them in a dry run).
func (run *runState) drift(ctx context.Context, coll string, drift map[string]*Repair) error {
	r := run.r
	cs := run.collSum(coll)
	for _, pid := range sortedKeys(drift) {
		rp := drift[pid]
		cs.Drifted += rp.Docs
		log := r.log.With().Str("collection", coll).Str("projectId", pid).Int("documents", rp.Docs).Logger()
		if r.opts.DryRun {
			log.Info().Strs("unset", rp.Unset).Msg("drift: copies differ from MongoDB (dry run: not repaired)")
			continue
		}
		log.Info().Strs("fields", rp.Fields()).Msg("drift: copies differ from MongoDB; rewriting them with the project's values read right before the write")
		ev := event.Event{Kind: event.ProjectUpdated, ProjectID: pid, Op: "reconcile", DocumentID: rp.ID, Lookup: rp.Fields()}
		rep, err := r.applier.Apply(ctx, ev)
		run.account(coll, rp.Docs, false, rep, func(c event.CollectionReport) int { return c.Updated },
			func(c *CollectionSummary, extra, repaired int) {
				c.Drifted += extra
				c.RepairedDrift += repaired
			})
		if err := run.outcome(ctx, coll, pid, "updating", "rewriting drifted copies failed", log, err); err != nil {
			return err
		}
	}
	return nil
}

// outcome counts what a repair's error means: nothing (it was applied);
// skipped (the existence rules refused it: nothing was written); failed
// (logged and counted, the run goes on). It returns an error only when the
// run must stop: ctx ended, or the watcher the repairs go through stopped.
func (run *runState) outcome(ctx context.Context, coll, pid, what, failed string, log zerolog.Logger, err error) error {
	cs := run.collSum(coll)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, watcher.ErrNotRunning):
		return fmt.Errorf("collection %s: %s project %s: %w", coll, what, pid, err)
	case errors.Is(err, event.ErrProjectExists):
		log.Warn().Err(err).Str("reason", event.ReasonProjectExists).
			Msg("repair skipped: a project with this id exists (in the other id form, or again); nothing written")
		run.sum.addSkip(fmt.Sprintf("%s project %s (%s): %s: %v", what, pid, coll, event.ReasonProjectExists, err))
		cs.Skipped++
		return nil
	}
	log.Error().Err(err).Msg(failed)
	run.sum.addError(fmt.Sprintf("%s project %s: %v", what, pid, err))
	cs.Failed++
	return nil
}
