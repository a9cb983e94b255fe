package daemon

import (
	"context"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/health"
	"github.com/projectwatcher/watcher/logging"
	"github.com/projectwatcher/watcher/metrics"
)

// statusDoc is the /status document.
type statusDoc struct {
	Build       buildStatus  `json:"build"`
	Role        string       `json:"role"` // leader | standby
	Epoch       int64        `json:"epoch,omitempty"`
	Stream      streamStatus `json:"stream"`
	LagSeconds  *float64     `json:"lagSeconds"` // age of the oldest pending change; 0 when nothing is pending; null before the stream opens
	Queued      int          `json:"queued"`     // events held by the dispatcher (queued, being applied, waiting for a retry)
	Retrying    int          `json:"retrying"`   // projects waiting for a retry
	InFlight    int          `json:"inFlight"`
	DeadLetters *int64       `json:"deadLetters"` // documents in deadLetter.collection; null when unreadable
	// Errors are the dependencies' current errors: null while each works.
	Errors      currentErrors  `json:"errors"`
	LastError   string         `json:"lastError,omitempty"`   // the last error seen, even when its cause is gone
	LastErrorAt string         `json:"lastErrorAt,omitempty"` // when (RFC 3339)
	Config      map[string]any `json:"config"`
}

// buildStatus names the running binary (as watcher_build_info does).
type buildStatus struct {
	Version   string `json:"version"` // "dev" for an untagged build
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
}

// currentErrors is what fails now, per dependency; null once it recovers.
type currentErrors struct {
	Firestore    *string `json:"firestore"`    // the start-up check, then the RPCs' health
	Mongo        *string `json:"mongo"`        // a ping of the primary, the dead-letter count
	ChangeStream *string `json:"changeStream"` // the stream of the leader (a standby has none)
}

// dependencyChecks are the checks /status reports the errors of: the
// readiness checks of the same names.
type dependencyChecks struct {
	firestore, mongo, changeStream func(context.Context) error
}

func errString(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

type streamStatus struct {
	Open        bool       `json:"open"`
	Token       string     `json:"token,omitempty"`       // the watermark's resume token (extended JSON)
	ClusterTime string     `json:"clusterTime,omitempty"` // Timestamp(T, I)
	At          *time.Time `json:"at,omitempty"`          // the cluster time as a wall time
}

// statusProvider builds /status from the instance's state, the dead-letter
// collection and the config (secrets redacted).
func statusProvider(cfg config.Config, b metrics.Build, dl *deadletter.Store, st *state, checks dependencyChecks) health.StatusFunc {
	summary := configSummary(cfg)
	bs := buildStatus{Version: b.Version, Commit: b.Commit, GoVersion: b.GoVersion}
	return func(ctx context.Context) any {
		role, epoch := st.Role()
		doc := statusDoc{Build: bs, Role: string(role), Epoch: epoch, Config: summary}
		doc.Errors.Firestore = errString(checks.firestore(ctx))
		doc.Errors.ChangeStream = errString(checks.changeStream(ctx))
		mongoErr := checks.mongo(ctx)
		if w := st.current(); w != nil {
			doc.Stream.Open = w.StreamErr(ctx) == nil
			lag := w.Lag().Seconds() // the same value as watcher_lag_seconds
			doc.LagSeconds = &lag
			doc.Queued, doc.Retrying = w.Pending()
			doc.InFlight, _ = w.Progress()
			if cp, ok := w.Position(); ok {
				doc.Stream.Token = cp.Token.String()
				doc.Stream.ClusterTime = event.TimestampString(cp.ClusterTime)
				if cp.ClusterTime.T != 0 {
					at := time.Unix(int64(cp.ClusterTime.T), 0).UTC()
					doc.Stream.At = &at
				}
			}
		}
		if n, err := dl.Count(ctx); err == nil {
			doc.DeadLetters = &n
		} else if mongoErr == nil {
			mongoErr = err // "deadletter: count: …"
		}
		doc.Errors.Mongo = errString(mongoErr)
		if err, at := st.lastError(); err != nil {
			doc.LastError, doc.LastErrorAt = err.Error(), at.UTC().Format(time.RFC3339)
		}
		return doc
	}
}

// configSummary is the config for /status, the MongoDB URI redacted.
func configSummary(cfg config.Config) map[string]any {
	cols := make([]string, 0, len(cfg.Sync.Collections))
	for _, c := range cfg.Sync.Collections {
		cols = append(cols, c.Name)
	}
	return map[string]any{
		"mongo": map[string]any{"uri": logging.RedactURI(cfg.Mongo.URI), "uriFile": cfg.Mongo.URIFile,
			"database": cfg.Mongo.Database, "collection": cfg.Mongo.Collection},
		"firestore": map[string]any{"projectId": cfg.Firestore.ProjectID, "databaseId": cfg.Firestore.DatabaseID,
			"credentialsFile": cfg.Firestore.CredentialsFile != ""},
		"resume": map[string]any{"store": cfg.Resume.Store, "name": cfg.Resume.Name, "database": cfg.Resume.Database,
			"collection": cfg.Resume.Collection, "startAt": cfg.Resume.StartAt,
			"checkpointInterval": cfg.Resume.CheckpointInterval.String()},
		"sync":   map[string]any{"mode": cfg.Sync.Mode, "workers": cfg.Sync.Workers, "collections": cols},
		"safety": map[string]any{"dryRun": cfg.Safety.DryRun, "maxDocsPerEvent": cfg.Safety.MaxDocsPerEvent},
		"lease":  map[string]any{"enabled": cfg.Lease.Enabled, "ttl": cfg.Lease.TTL.String()},
		"http":   map[string]any{"addr": cfg.HTTP.Addr},
	}
}
