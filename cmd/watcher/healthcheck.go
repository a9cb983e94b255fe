package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/health"
	"github.com/spf13/cobra"
)

const (
	healthTimeout    = 3 * time.Second
	defaultHealthURL = "http://127.0.0.1:8080/healthz"
)

func newHealthcheckCmd(g *globals) *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "GET /healthz of a running watcher: exit 0 when healthy, 1 otherwise (for Docker HEALTHCHECK)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				url = healthURL(g.path(cmd))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), healthTimeout)
			defer cancel()
			if err := health.Probe(ctx, &http.Client{Timeout: healthTimeout}, url); err != nil {
				return failure(fmt.Errorf("unhealthy: %w", err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok %s\n", url)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "URL to probe (default: /healthz on http.addr of the config, else "+defaultHealthURL+")")
	return cmd
}

// healthURL derives the probe URL from http.addr of the config (file and
// environment), else the default. Problems elsewhere in the config (say an
// unreadable mongo.uriFile) do not matter here: Load still decodes http.addr.
func healthURL(path string) string {
	cfg, err := config.Load(path, nil)
	var problems config.Problems
	if err != nil && !errors.As(err, &problems) {
		return defaultHealthURL
	}
	url, err := health.ProbeURL(cfg.HTTP.Addr, "/healthz")
	if err != nil {
		return defaultHealthURL
	}
	return url
}
