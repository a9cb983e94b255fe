package main

import (
	"context"
	"errors"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/daemon"
	"github.com/rs/zerolog"
)

// openDaemon opens what a command needs (daemon.Open). A part refusing its
// configuration is a configuration error (exit 2); anything else, such as a
// MongoDB URI the driver cannot parse, a runtime failure (exit 1).
func openDaemon(ctx context.Context, cfg config.Config, log zerolog.Logger, opts ...daemon.Option) (*daemon.Daemon, error) {
	d, err := daemon.Open(ctx, cfg, log, opts...)
	switch {
	case errors.Is(err, daemon.ErrConfig):
		return nil, configError(err)
	case err != nil:
		return nil, failure(err)
	}
	return d, nil
}
