// Package config holds the watcher's typed configuration: loading (YAML file
// plus WATCHER_* environment overrides) and validation that reports every
// problem at once. Each part of the daemon receives only its own section.
package config

import "time"

// Config is the whole configuration. Key names are a contract (docs/ARCHITECTURE.md, "Configuration").
type Config struct {
	Mongo      Mongo      `mapstructure:"mongo"`
	Firestore  Firestore  `mapstructure:"firestore"`
	Resume     Resume     `mapstructure:"resume"`
	Sync       Sync       `mapstructure:"sync"`
	Retry      Retry      `mapstructure:"retry"`
	DeadLetter DeadLetter `mapstructure:"deadLetter"`
	Safety     Safety     `mapstructure:"safety"`
	Reconcile  Reconcile  `mapstructure:"reconcile"`
	Lease      Lease      `mapstructure:"lease"`
	Shutdown   Shutdown   `mapstructure:"shutdown"`
	Bus        Bus        `mapstructure:"bus"`
	Health     Health     `mapstructure:"health"`
	HTTP       HTTP       `mapstructure:"http"`
	Log        Log        `mapstructure:"log"`
}

// Mongo is the source of truth: the projects collection.
type Mongo struct {
	URI        string `mapstructure:"uri"`
	URIFile    string `mapstructure:"uriFile"`
	Database   string `mapstructure:"database"`
	Collection string `mapstructure:"collection"`
	// StartupTimeout is how long a start keeps trying to reach MongoDB
	// before it exits 1.
	StartupTimeout time.Duration `mapstructure:"startupTimeout"`
}

// Firestore is where the assets live.
type Firestore struct {
	ProjectID       string `mapstructure:"projectId"`
	DatabaseID      string `mapstructure:"databaseId"`
	CredentialsFile string `mapstructure:"credentialsFile"`
	// CallTimeout is the deadline of one Firestore RPC; for a streamed
	// query, the longest wait between two pages.
	CallTimeout time.Duration `mapstructure:"callTimeout"`
}

// Resume configures the checkpoint (resume token) store.
type Resume struct {
	Store              string        `mapstructure:"store"` // mongo | file
	Name               string        `mapstructure:"name"`
	Database           string        `mapstructure:"database"`
	Collection         string        `mapstructure:"collection"`
	Path               string        `mapstructure:"path"`
	StartAt            string        `mapstructure:"startAt"` // now | RFC 3339
	CheckpointInterval time.Duration `mapstructure:"checkpointInterval"`
	OnHistoryLost      string        `mapstructure:"onHistoryLost"` // fail | reconcile
}

// Sync configures the Firestore side.
type Sync struct {
	IDField string `mapstructure:"idField"`
	Mode    string `mapstructure:"mode"` // delete | archive
	// CreateTimeSkew: when a deleted id exists again, only documents
	// created before the deletion's wall time plus this are deleted.
	CreateTimeSkew time.Duration `mapstructure:"createTimeSkew"`
	Workers        int           `mapstructure:"workers"`
	Collections    []Collection  `mapstructure:"collections"`
	Fields         []Field       `mapstructure:"fields"`
}

// Collection is one Firestore asset collection.
type Collection struct {
	Name      string `mapstructure:"name"`
	Group     bool   `mapstructure:"group"`
	Recursive bool   `mapstructure:"recursive"`
}

// Field maps a project field (MongoDB path) to its copies (Firestore path).
type Field struct {
	Source      string   `mapstructure:"source"`
	Target      string   `mapstructure:"target"`
	Collections []string `mapstructure:"collections"` // empty: every configured collection
}

// Retry bounds the retries of transient failures.
type Retry struct {
	InitialBackoff time.Duration `mapstructure:"initialBackoff"`
	MaxBackoff     time.Duration `mapstructure:"maxBackoff"`
	MaxAttempts    int           `mapstructure:"maxAttempts"`
}

// DeadLetter names the MongoDB collection of failed events.
type DeadLetter struct {
	Database   string `mapstructure:"database"`
	Collection string `mapstructure:"collection"`
}

// Safety holds the guards against mass changes.
type Safety struct {
	DryRun          bool `mapstructure:"dryRun"`
	MaxDocsPerEvent int  `mapstructure:"maxDocsPerEvent"`
}

// Reconcile configures the periodic reconciliation.
type Reconcile struct {
	Interval time.Duration `mapstructure:"interval"`
}

// Lease configures leader election.
type Lease struct {
	Enabled bool          `mapstructure:"enabled"`
	TTL     time.Duration `mapstructure:"ttl"`
}

// Shutdown bounds the stop on SIGTERM.
type Shutdown struct {
	// DrainTimeout is the longest wait for queued events to finish; keep it
	// below the orchestrator's grace period (45 s in deploy/k8s).
	DrainTimeout time.Duration `mapstructure:"drainTimeout"`
}

// Bus modes.
const (
	BusOff     = "off"
	BusPublish = "publish"
)

// Bus configures the event bus on Google Cloud Pub/Sub.
type Bus struct {
	Mode string `mapstructure:"mode"` // off | publish
	// ProjectID is the Pub/Sub project; empty: firestore.projectId (see
	// Config.BusProjectID).
	ProjectID           string `mapstructure:"projectId"`
	Topic               string `mapstructure:"topic"`
	Subscription        string `mapstructure:"subscription"`
	DeadLetterTopic     string `mapstructure:"deadLetterTopic"`
	MaxDeliveryAttempts int    `mapstructure:"maxDeliveryAttempts"` // Pub/Sub allows 5..100
}

// BusProjectID is the Google Cloud project of the event bus: bus.projectId,
// or firestore.projectId when that is empty.
func (c Config) BusProjectID() string {
	if c.Bus.ProjectID != "" {
		return c.Bus.ProjectID
	}
	return c.Firestore.ProjectID
}

// Health configures the progress watchdog.
type Health struct {
	StallTimeout time.Duration `mapstructure:"stallTimeout"`
}

// HTTP is the probes and metrics listener.
type HTTP struct {
	Addr string `mapstructure:"addr"`
	// Pprof also serves Go's profiles under /debug/pprof/ on Addr (for
	// profiling a running watcher; off by default, as it exposes internals).
	Pprof bool `mapstructure:"pprof"`
}

// Log configures the logger.
type Log struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"` // json | console
}
