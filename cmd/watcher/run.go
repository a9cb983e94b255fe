package main

import (
	"context"
	"errors"

	"github.com/projectwatcher/watcher/daemon"
	"github.com/spf13/cobra"
)

func newRunCmd(g *globals) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the daemon until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loaded, err := g.loadDaemonConfig(cmd, dryRun)
			if err != nil {
				return err
			}
			log, mainLog, info, err := daemonLogger(cmd, loaded)
			if err != nil {
				return err
			}
			cfg := loaded.Config

			ctx, stopNow, stop := stopSignals(cmd.Context(), mainLog)
			defer stop()
			err = daemon.Run(ctx, cfg, log, daemon.WithStopNow(stopNow), daemon.WithBuild(info.Version, info.Commit, info.GoVersion))
			if err != nil && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
				mainLog.Error().Err(err).Msg("watcher failed")
				return failure(err)
			}
			mainLog.Info().Msg("watcher stopped")
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "set safety.dryRun: log what would change, write nothing to Firestore")
	return cmd
}
