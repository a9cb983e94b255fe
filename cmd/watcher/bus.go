package main

import (
	"context"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/bus"
	"github.com/spf13/cobra"
)

const busSetupTimeout = 2 * time.Minute

func newBusCmd(g *globals) *cobra.Command {
	cmd := groupCmd("bus", "Manage the event bus on Google Cloud Pub/Sub (bus.*)")
	cmd.AddCommand(newBusSetupCmd(g))
	return cmd
}

func newBusSetupCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "setup",
		Short: "Create (or bring to the configured settings) the topic, the ordered subscription with its retry and " +
			"dead-letter policies, the dead-letter topic and its subscription; idempotent",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(cmd, nil)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), busSetupTimeout)
			defer cancel()
			project := cfg.BusProjectID()
			c, err := bus.Dial(ctx, project)
			if err != nil {
				return failure(err)
			}
			defer func() { _ = c.Close() }()
			steps, err := bus.Setup(ctx, c, project, cfg.Bus, cfg.Retry)
			out := cmd.OutOrStdout()
			for _, s := range steps {
				fmt.Fprintln(out, s)
			}
			if err != nil {
				return failure(err)
			}
			n := bus.NamesOf(project, cfg.Bus)
			fmt.Fprintf(out, "dead letters: on Google Cloud, Pub/Sub's service agent needs roles/pubsub.publisher on %s "+
				"and roles/pubsub.subscriber on %s to move them (README, \"Scaling out\")\n", n.DeadLetterTopic, n.Subscription)
			return nil
		},
	}
}
