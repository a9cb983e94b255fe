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
	"github.com/spf13/cobra"
)

func newWorkerCmd(g *globals) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Apply the events the leader publishes (bus.mode publish) until SIGINT or SIGTERM; run as many as you like",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loaded, err := g.loadDaemonConfig(cmd, dryRun)
			if err != nil {
				return err
			}
			cfg := loaded.Config
			if cfg.Bus.Mode != config.BusPublish {
				return configError(fmt.Errorf("watcher worker: bus.mode is %q: the leader applies the events itself and publishes none; "+
					"set bus.mode: publish for the leader and the workers (README, \"Scaling out\")", cfg.Bus.Mode))
			}
			log, mainLog, info, err := daemonLogger(cmd, loaded)
			if err != nil {
				return err
			}
			if cfg.Safety.DryRun {
				mainLog.Warn().Str("subscription", cfg.Bus.Subscription).
					Msg("dry run: the messages received are acknowledged without writing; give a dry run a subscription of its own")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = daemon.RunWorker(ctx, cfg, log, daemon.WithBuild(info.Version, info.Commit, info.GoVersion))
			if err != nil && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
				mainLog.Error().Err(err).Msg("worker failed")
				return failure(err)
			}
			mainLog.Info().Msg("worker stopped")
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "set safety.dryRun: log what would change, write nothing to Firestore (acknowledges what it receives)")
	return cmd
}
