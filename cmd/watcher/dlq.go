package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/daemon"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/logging"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

const dlqTimeout = 10 * time.Minute

func newDLQCmd(g *globals) *cobra.Command {
	cmd := groupCmd("dlq", "List, retry or purge dead-lettered events")
	cmd.AddCommand(newDLQListCmd(g), newDLQRetryCmd(g), newDLQPurgeCmd(g))
	return cmd
}

func newDLQListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the dead letters (a table, or --json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			return withDeadLetters(cmd.Context(), cfg, func(ctx context.Context, s *deadletter.Store) error {
				letters, err := s.List(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeLettersJSON(cmd.OutOrStdout(), letters)
				}
				return writeLettersTable(cmd.OutOrStdout(), letters)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (one array) instead of a table")
	return cmd
}

func newDLQRetryCmd(g *globals) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:   "retry [ID|--all] [--force]",
		Short: "Apply dead letters again through the watcher's applier; each one applied is removed",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneTarget(args, all); err != nil {
				return err
			}
			cfg, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			if cfg.Safety.DryRun {
				return configError(errors.New("safety.dryRun is set: dlq retry would write nothing; unset it to retry"))
			}
			log, err := logging.New(cfg.Log, cmd.ErrOrStderr())
			if err != nil {
				return configError(err)
			}
			return withDaemon(cmd.Context(), cfg, log, func(ctx context.Context, d *daemon.Daemon) error {
				s := d.DeadLetters()
				r := deadletter.NewRetrier(s, d.Applier(), d.UnlimitedApplier(), d.Resolver())
				ids := args
				if all {
					letters, err := s.List(ctx)
					if err != nil {
						return err
					}
					ids = ids[:0]
					for _, l := range letters {
						ids = append(ids, l.ID)
					}
				}
				return retryLetters(ctx, cmd.OutOrStdout(), r, ids, force, all)
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "retry every dead letter")
	cmd.Flags().BoolVar(&force, "force", false, "apply even over safety.maxDocsPerEvent")
	return cmd
}

// retryLetters retries ids in order, printing one line each; it fails when
// any of them still fails. all: ids are the letters just listed (one that
// is gone since was retried or purged by someone else), else the one the
// user named (an unknown id is the whole answer).
func retryLetters(ctx context.Context, out io.Writer, r *deadletter.Retrier, ids []string, force, all bool) error {
	failed := 0
	for _, id := range ids {
		rep, err := r.Retry(ctx, id, force)
		switch {
		case errors.Is(err, deadletter.ErrNotFound) && !all:
			return failure(noSuchLetter(id))
		case errors.Is(err, deadletter.ErrNotFound):
			fmt.Fprintf(out, "%s: gone (removed since it was listed)\n", id)
			continue
		case err != nil:
			failed++
			hint := ""
			if errors.Is(err, event.ErrSafetyLimit) {
				hint = " (check the project, then retry with --force)"
			}
			fmt.Fprintf(out, "%s: failed: %v%s\n", id, oneLine(err.Error()), hint)
			continue
		}
		fmt.Fprintf(out, "%s: applied (%d documents matched), removed\n", id, rep.Total())
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d dead letters still fail; they stay in the collection", failed, len(ids))
	}
	if len(ids) == 0 {
		fmt.Fprintln(out, "no dead letters")
	}
	return nil
}

func newDLQPurgeCmd(g *globals) *cobra.Command {
	var all, yes bool
	cmd := &cobra.Command{
		Use:   "purge [ID|--all] --yes",
		Short: "Delete dead letters without applying them",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneTarget(args, all); err != nil {
				return err
			}
			if !yes {
				return usageError(errors.New("dlq purge drops events for good (their changes are never applied); pass --yes to confirm"))
			}
			cfg, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			return withDeadLetters(cmd.Context(), cfg, func(ctx context.Context, s *deadletter.Store) error {
				if all {
					n, err := s.RemoveAll(ctx)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "purged %d dead letters\n", n)
					return nil
				}
				switch err := s.Remove(ctx, args[0]); {
				case errors.Is(err, deadletter.ErrNotFound):
					return failure(noSuchLetter(args[0]))
				case err != nil:
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "purged %s\n", args[0])
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "purge every dead letter")
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the purge")
	return cmd
}

func noSuchLetter(id string) error {
	return fmt.Errorf("no dead letter with id %q (see \"watcher dlq list\")", id)
}

// oneTarget checks that exactly one of an ID and --all was given.
func oneTarget(args []string, all bool) error {
	switch {
	case len(args) == 1 && all:
		return usageError(errors.New("give an ID or --all, not both"))
	case len(args) == 0 && !all:
		return usageError(errors.New("give a dead letter ID (see \"watcher dlq list\") or --all"))
	}
	return nil
}

// withDeadLetters connects to MongoDB only and calls fn with the
// dead-letter store; fn's errors are runtime failures (exit 1).
func withDeadLetters(ctx context.Context, cfg config.Config, fn func(context.Context, *deadletter.Store) error) error {
	return withDaemon(ctx, cfg, zerolog.Nop(), func(ctx context.Context, d *daemon.Daemon) error {
		return fn(ctx, d.DeadLetters())
	}, daemon.MongoOnly())
}

// withDaemon opens the clients (daemon.Open with opts: by default MongoDB
// and Firestore), calls fn and closes them; fn's errors are runtime
// failures (exit 1) unless they carry their own exit code.
func withDaemon(ctx context.Context, cfg config.Config, log zerolog.Logger, fn func(context.Context, *daemon.Daemon) error,
	opts ...daemon.Option) error {
	ctx, cancel := context.WithTimeout(ctx, dlqTimeout)
	defer cancel()
	d, err := openDaemon(ctx, cfg, log, opts...)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	if err := fn(ctx, d); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return failure(err)
	}
	return nil
}

func writeLettersTable(out io.Writer, letters []event.DeadLetter) error {
	if len(letters) == 0 {
		_, err := fmt.Fprintln(out, "no dead letters")
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREASON\tKIND\tPROJECT\tATTEMPTS\tLAST FAILURE\tERROR")
	for _, l := range letters {
		project := l.ProjectID
		if project == "" {
			project = "(" + keyOrNone(l) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", l.ID, l.Reason, l.Kind, project, l.Attempts,
			l.LastFailedAt.UTC().Format(time.RFC3339), truncate(oneLine(l.Error), 80))
	}
	return tw.Flush()
}

func keyOrNone(l event.DeadLetter) string {
	if len(l.DocumentKey) == 0 {
		return "no documentKey"
	}
	return l.DocumentKey.String()
}

// letterJSON is the --json form of a dead letter.
type letterJSON struct {
	ID            string         `json:"id"`
	Reason        string         `json:"reason"`
	Kind          string         `json:"kind"`
	ProjectID     string         `json:"projectId"`
	Op            string         `json:"op"`
	DocumentKey   string         `json:"documentKey,omitempty"` // extended JSON
	Set           map[string]any `json:"set,omitempty"`
	Unset         []string       `json:"unset,omitempty"`
	Lookup        []string       `json:"lookup,omitempty"`
	Token         string         `json:"token,omitempty"` // extended JSON
	ClusterTime   clusterTime    `json:"clusterTime"`
	Error         string         `json:"error"`
	Attempts      int            `json:"attempts"`
	FirstFailedAt time.Time      `json:"firstFailedAt"`
	LastFailedAt  time.Time      `json:"lastFailedAt"`
}

type clusterTime struct {
	T uint32 `json:"t"`
	I uint32 `json:"i"`
}

func writeLettersJSON(out io.Writer, letters []event.DeadLetter) error {
	items := make([]letterJSON, 0, len(letters))
	for _, l := range letters {
		j := letterJSON{
			ID: l.ID, Reason: l.Reason, Kind: l.Kind, ProjectID: l.ProjectID, Op: l.Op,
			Set: l.Set, Unset: l.Unset, Lookup: l.Lookup, ClusterTime: clusterTime{l.ClusterTime.T, l.ClusterTime.I},
			Error: l.Error, Attempts: l.Attempts, FirstFailedAt: l.FirstFailedAt.UTC(), LastFailedAt: l.LastFailedAt.UTC(),
		}
		if len(l.DocumentKey) > 0 {
			j.DocumentKey = l.DocumentKey.String()
		}
		if len(l.Token) > 0 {
			j.Token = l.Token.String()
		}
		items = append(items, j)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(items)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
