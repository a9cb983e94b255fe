package logging

import (
	"github.com/projectwatcher/watcher/config"
	"github.com/rs/zerolog"
)

// LogConfig logs, at info level, what the daemon is about to run with: the
// config file read (or config.NoConfigFile), the version and commit of the
// binary (the message says both, in that order: the first line of a start)
// and the configuration. The MongoDB URI goes through RedactURI; nothing
// else logged is a secret (file paths, not their content).
func LogConfig(log zerolog.Logger, l config.Loaded, version, commit string) {
	cfg := l.Config
	collections := zerolog.Arr()
	for _, c := range cfg.Sync.Collections {
		collections.Dict(zerolog.Dict().Str("name", c.Name).Bool("group", c.Group).Bool("recursive", c.Recursive))
	}
	fields := zerolog.Arr()
	for _, f := range cfg.Sync.Fields {
		fields.Dict(zerolog.Dict().Str("source", f.Source).Str("target", f.Target).Strs("collections", f.Collections))
	}
	file := l.File
	if file == "" {
		file = config.NoConfigFile
	}
	log.Info().
		Str("version", version).
		Str("commit", commit).
		Str("configFile", file).
		Dict("mongo", zerolog.Dict().
			Str("uri", RedactURI(cfg.Mongo.URI)).
			Str("uriFile", cfg.Mongo.URIFile).
			Str("database", cfg.Mongo.Database).
			Str("collection", cfg.Mongo.Collection).
			Stringer("startupTimeout", cfg.Mongo.StartupTimeout)).
		Dict("firestore", zerolog.Dict().
			Str("projectId", cfg.Firestore.ProjectID).
			Str("databaseId", cfg.Firestore.DatabaseID).
			Str("credentialsFile", cfg.Firestore.CredentialsFile).
			Stringer("callTimeout", cfg.Firestore.CallTimeout)).
		Dict("resume", zerolog.Dict().
			Str("store", cfg.Resume.Store).
			Str("name", cfg.Resume.Name).
			Str("startAt", cfg.Resume.StartAt).
			Stringer("checkpointInterval", cfg.Resume.CheckpointInterval).
			Str("onHistoryLost", cfg.Resume.OnHistoryLost)).
		Dict("sync", zerolog.Dict().
			Str("idField", cfg.Sync.IDField).
			Str("mode", cfg.Sync.Mode).
			Stringer("createTimeSkew", cfg.Sync.CreateTimeSkew).
			Int("workers", cfg.Sync.Workers).
			Array("collections", collections).
			Array("fields", fields)).
		Dict("safety", zerolog.Dict().
			Bool("dryRun", cfg.Safety.DryRun).
			Int("maxDocsPerEvent", cfg.Safety.MaxDocsPerEvent)).
		Stringer("reconcileInterval", cfg.Reconcile.Interval).
		Bool("lease", cfg.Lease.Enabled).
		Stringer("drainTimeout", cfg.Shutdown.DrainTimeout).
		Str("busMode", cfg.Bus.Mode).
		Str("httpAddr", cfg.HTTP.Addr).
		Msg("config file " + file + "; watcher " + version + " (commit " + commit + ")")
}
