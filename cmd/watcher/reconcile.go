package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/daemon"
	"github.com/projectwatcher/watcher/logging"
	"github.com/projectwatcher/watcher/reconcile"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

// reconcileFlags are the flags of `watcher reconcile`.
type reconcileFlags struct {
	dryRun  bool
	orphans bool
	drift   bool
	json    bool
}

func newReconcileCmd(g *globals) *cobra.Command {
	var f reconcileFlags
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Find and repair orphaned assets and stale copies (scans every configured collection)",
		Long: `Scan every configured Firestore collection, look the projects up in MongoDB, and
repair what the change stream missed: assets of projects that no longer exist are
deleted or archived (as for a deleted project), copied fields that differ from
MongoDB are rewritten (as for an updated project). Both checks run unless
--orphans or --drift picks one.

Each repair reads its project again right before it writes (on the primary, majority
read): an orphan whose project exists by then (in either id form) is not cleaned,
copies are written with the project's current values, and the copies of a project
whose id has a twin (an ObjectID and a string holding its hex) are not rewritten.
Such repairs are skipped and listed. A projectId that is an ObjectID's hex in
uppercase is reported as invalid (the watcher writes lowercase).

Exit codes: 0 consistent (or everything repaired); 1 with --dry-run when anything
needs repair, when a repair or lookup failed, when a repair was skipped, or when
documents with an invalid project id were found; 2 bad config or usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			f.dryRun = f.dryRun || cfg.Safety.DryRun
			bar := isTerminal(cmd.ErrOrStderr())
			if bar && g.logLevel == "" {
				cfg.Log.Level = "warn" // the bar shows the progress; logs would break it
			}
			log, err := logging.New(cfg.Log, cmd.ErrOrStderr())
			if err != nil {
				return configError(err)
			}
			var progress reconcile.Progress = newLogProgress(log)
			if bar {
				progress = newBarProgress(cmd.ErrOrStderr())
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			sum, runErr := runReconcile(ctx, cfg, f, progress, log)
			if sum.Collections != nil {
				if err := printSummary(cmd.OutOrStdout(), sum, f.json); err != nil {
					return failure(err)
				}
			}
			switch {
			case runErr != nil:
				return failure(runErr)
			case f.dryRun && sum.Found() > 0:
				fmt.Fprintf(cmd.ErrOrStderr(), "dry run: %d documents need repair\n", sum.Found())
				return quietExit(exitFailure)
			case sum.Totals.Invalid > 0:
				fmt.Fprintf(cmd.ErrOrStderr(), "%d documents have an invalid project id and need a look\n", sum.Totals.Invalid)
				return quietExit(exitFailure)
			case sum.Totals.Skipped > 0:
				fmt.Fprintf(cmd.ErrOrStderr(), "%d repairs were skipped: a project with the id exists (in the other id form, or again); they need a look\n", sum.Totals.Skipped)
				return quietExit(exitFailure)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "report what needs repair, change nothing (exit 1 when anything does)")
	cmd.Flags().BoolVar(&f.orphans, "orphans", false, "look for orphaned assets (assets of projects that no longer exist)")
	cmd.Flags().BoolVar(&f.drift, "drift", false, "look for copied fields that differ from MongoDB")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the summary as JSON")
	return cmd
}

// runReconcile opens MongoDB and Firestore and runs one reconciliation
// through the applier the daemon uses for its events
// (safety.maxDocsPerEvent included).
func runReconcile(ctx context.Context, cfg config.Config, f reconcileFlags, progress reconcile.Progress, log zerolog.Logger) (reconcile.Summary, error) {
	d, err := daemon.Open(ctx, cfg, log)
	if err != nil {
		return reconcile.Summary{}, err
	}
	defer func() { _ = d.Close() }()
	r, err := d.NewReconciler(reconcile.Options{
		DryRun:   f.dryRun,
		Checks:   reconcile.Checks{Orphans: f.orphans, Drift: f.drift},
		Progress: progress,
	})
	if err != nil {
		return reconcile.Summary{}, err
	}
	sum, err := r.Run(ctx)
	if err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return sum, errors.New("interrupted: the reconciliation stopped before it finished")
	}
	return sum, err
}
