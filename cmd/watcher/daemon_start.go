package main

import (
	"github.com/projectwatcher/watcher/cmd/watcher/internal/buildinfo"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/logging"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

// loadDaemonConfig loads the configuration of a long-running command
// (run, worker): the file and environment, with --dry-run as
// safety.dryRun.
func (g *globals) loadDaemonConfig(cmd *cobra.Command, dryRun bool) (config.Loaded, error) {
	overrides := map[string]string{}
	if dryRun {
		overrides["safety.dryRun"] = "true"
	}
	return g.loadFrom(cmd, overrides)
}

// daemonLogger builds the logger of a long-running command from its
// configuration and logs the start-up line (the config file, the version
// and commit, the configuration redacted). It returns the logger, its
// component main, and the build.
func daemonLogger(cmd *cobra.Command, loaded config.Loaded) (log, mainLog zerolog.Logger, info buildinfo.Info, err error) {
	log, err = logging.New(loaded.Config.Log, cmd.ErrOrStderr())
	if err != nil {
		return log, log, info, configError(err)
	}
	mainLog = log.With().Str("component", "main").Logger()
	info = buildinfo.Get(version, commit, nil)
	logging.LogConfig(mainLog, loaded, info.Version, info.Commit)
	return log, mainLog, info, nil
}
