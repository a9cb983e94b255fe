package config

import "time"

// DefaultPath is the config file read when no path is given. Unlike an
// explicitly given path, it may be missing: then only defaults and the
// environment apply.
const DefaultPath = "config.yaml"

// Defaults returns the built-in configuration (config.yaml documents it).
// The repository's config.yaml documents exactly these values; a test keeps
// the two equal.
func Defaults() Config {
	return Config{
		Mongo: Mongo{
			URI:            "mongodb://localhost:27017/?replicaSet=rs0",
			Database:       "collaboration",
			Collection:     "projects",
			StartupTimeout: 60 * time.Second,
		},
		Firestore: Firestore{
			ProjectID:   "demo-project",
			DatabaseID:  "(default)",
			CallTimeout: 5 * time.Second,
		},
		Resume: Resume{
			Store:              "mongo",
			Name:               "projects-firestore",
			Database:           "watcher",
			Collection:         "checkpoints",
			Path:               "watcher-checkpoint.json",
			StartAt:            "now",
			CheckpointInterval: time.Second,
			OnHistoryLost:      "fail",
		},
		Sync: Sync{
			IDField:        "projectId",
			Mode:           "delete",
			CreateTimeSkew: 2 * time.Second,
			Workers:        8,
			Collections: []Collection{
				{Name: "storyboards", Group: false, Recursive: true},
				{Name: "aiAnalyses"},
				{Name: "generatedMedia"},
			},
			Fields: []Field{
				{Source: "name", Target: "projectName", Collections: []string{}},
			},
		},
		Retry: Retry{
			InitialBackoff: 200 * time.Millisecond,
			MaxBackoff:     30 * time.Second,
			MaxAttempts:    8,
		},
		DeadLetter: DeadLetter{
			Database:   "watcher",
			Collection: "deadLetters",
		},
		Safety: Safety{
			DryRun:          false,
			MaxDocsPerEvent: 10000,
		},
		Reconcile: Reconcile{Interval: 0},
		Lease:     Lease{Enabled: false, TTL: 15 * time.Second},
		Shutdown:  Shutdown{DrainTimeout: 30 * time.Second},
		Bus: Bus{
			Mode:                BusOff,
			ProjectID:           "",
			Topic:               "project-events",
			Subscription:        "project-events-workers",
			DeadLetterTopic:     "project-events-dead",
			MaxDeliveryAttempts: 5,
		},
		Health: Health{StallTimeout: 5 * time.Minute},
		HTTP:   HTTP{Addr: ":8080"},
		Log:    Log{Level: "info", Format: "json"},
	}
}
