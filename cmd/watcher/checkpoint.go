package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/cmd/watcher/internal/checkpointview"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/daemon"
	"github.com/projectwatcher/watcher/resume"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

const checkpointTimeout = 30 * time.Second

func newCheckpointCmd(g *globals) *cobra.Command {
	cmd := groupCmd("checkpoint", "Show or reset the stored resume token")
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the stored checkpoint: its store, token, cluster time, saved at, age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			return withStore(cmd.Context(), cfg, func(ctx context.Context, store resume.Store) error {
				cp, ok, err := store.Load(ctx)
				if err != nil {
					return err
				}
				v := checkpointview.View{Store: checkpointview.StoreOf(cfg.Resume), Found: ok, CP: cp, Now: time.Now(), StartAt: cfg.Resume.StartAt}
				if asJSON {
					return checkpointview.WriteJSON(cmd.OutOrStdout(), v)
				}
				return checkpointview.Write(cmd.OutOrStdout(), v)
			})
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	cmd.AddCommand(show)
	var yes bool
	reset := &cobra.Command{
		Use:   "reset --yes",
		Short: "Delete the stored checkpoint: the next run starts at resume.startAt",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				return usageError(errors.New("checkpoint reset deletes the resume position: the next run starts at resume.startAt, skipping or replaying changes; pass --yes to confirm"))
			}
			cfg, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			return withStore(cmd.Context(), cfg, func(ctx context.Context, store resume.Store) error {
				if err := store.Reset(ctx); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "checkpoint %q reset\n", cfg.Resume.Name)
				return nil
			})
		},
	}
	reset.Flags().BoolVar(&yes, "yes", false, "confirm the reset")
	cmd.AddCommand(reset)
	return cmd
}

// withStore opens the configured checkpoint store (connecting to MongoDB
// for the mongo store), calls fn, and closes what it opened. fn's errors are
// runtime failures.
func withStore(ctx context.Context, cfg config.Config, fn func(context.Context, resume.Store) error) error {
	ctx, cancel := context.WithTimeout(ctx, checkpointTimeout)
	defer cancel()
	d, err := openDaemon(ctx, cfg, zerolog.Nop(), daemon.CheckpointsOnly())
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	if err := fn(ctx, d.Checkpoints()); err != nil {
		return failure(err)
	}
	return nil
}
