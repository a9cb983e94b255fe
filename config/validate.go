package config

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// LogLevels are the accepted values of log.level.
var logLevels = []string{"trace", "debug", "info", "warn", "error"}

// Validate checks every value and returns a Problems listing all that are
// wrong, or nil. It does no I/O.
func (c Config) Validate() error {
	return validate(c).err()
}

func validate(c Config) Problems {
	var p Problems
	c.Mongo.validate(&p)
	c.Firestore.validate(&p)
	c.Resume.validate(&p)
	c.Sync.validate(&p)
	c.Retry.validate(&p)
	nonEmpty(&p, "deadLetter.database", c.DeadLetter.Database)
	nonEmpty(&p, "deadLetter.collection", c.DeadLetter.Collection)
	if c.Safety.MaxDocsPerEvent < 0 {
		p.addf("safety.maxDocsPerEvent: must be >= 0 (0: no limit), got %d", c.Safety.MaxDocsPerEvent)
	}
	if c.Reconcile.Interval < 0 {
		p.addf("reconcile.interval: must be >= 0 (0s: off), got %s", c.Reconcile.Interval)
	}
	if c.Lease.Enabled && c.Lease.TTL <= 0 {
		p.addf("lease.ttl: must be > 0 when lease.enabled, got %s", c.Lease.TTL)
	}
	positive(&p, "shutdown.drainTimeout", c.Shutdown.DrainTimeout)
	c.Bus.validate(&p)
	if c.Health.StallTimeout <= 0 {
		p.addf("health.stallTimeout: must be > 0, got %s", c.Health.StallTimeout)
	}
	if err := checkAddr(c.HTTP.Addr); err != "" {
		p.addf("http.addr: %s", err)
	}
	oneOf(&p, "log.level", c.Log.Level, logLevels...)
	oneOf(&p, "log.format", c.Log.Format, "json", "console")
	return p
}

func (m Mongo) validate(p *Problems) {
	if m.URIFile == "" {
		switch {
		case strings.TrimSpace(m.URI) == "":
			p.addf("mongo.uri: empty (set it, or mongo.uriFile)")
		case !strings.HasPrefix(m.URI, "mongodb://") && !strings.HasPrefix(m.URI, "mongodb+srv://"):
			// Never echo the URI: it may hold a password.
			p.addf("mongo.uri: must start with mongodb:// or mongodb+srv://")
		}
	}
	nonEmpty(p, "mongo.database", m.Database)
	nonEmpty(p, "mongo.collection", m.Collection)
	positive(p, "mongo.startupTimeout", m.StartupTimeout)
}

func (f Firestore) validate(p *Problems) {
	nonEmpty(p, "firestore.projectId", f.ProjectID)
	nonEmpty(p, "firestore.databaseId", f.DatabaseID) // "(default)" names the default database
	positive(p, "firestore.callTimeout", f.CallTimeout)
}

func (r Resume) validate(p *Problems) {
	oneOf(p, "resume.store", r.Store, "mongo", "file")
	nonEmpty(p, "resume.name", r.Name)
	switch r.Store {
	case "mongo":
		nonEmpty(p, "resume.database", r.Database)
		nonEmpty(p, "resume.collection", r.Collection)
	case "file":
		nonEmpty(p, "resume.path", r.Path)
	}
	if r.StartAt != "now" {
		if _, err := time.Parse(time.RFC3339, r.StartAt); err != nil {
			p.addf("resume.startAt: must be \"now\" or an RFC 3339 time (like 2024-05-01T00:00:00Z), got %q", r.StartAt)
		}
	}
	if r.CheckpointInterval <= 0 {
		p.addf("resume.checkpointInterval: must be > 0, got %s", r.CheckpointInterval)
	}
	oneOf(p, "resume.onHistoryLost", r.OnHistoryLost, "fail", "reconcile")
}

func (r Retry) validate(p *Problems) {
	if r.InitialBackoff <= 0 {
		p.addf("retry.initialBackoff: must be > 0, got %s", r.InitialBackoff)
	}
	if r.MaxBackoff < r.InitialBackoff {
		p.addf("retry.maxBackoff: must be >= retry.initialBackoff (%s), got %s", r.InitialBackoff, r.MaxBackoff)
	}
	if r.MaxAttempts < 1 {
		p.addf("retry.maxAttempts: must be >= 1, got %d", r.MaxAttempts)
	}
}

// checkAddr returns why addr is not a host:port listen address, or "".
func checkAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "must be host:port or :port, got " + strconv.Quote(addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "port must be a number from 0 to 65535, got " + strconv.Quote(port)
	}
	return ""
}

func positive(p *Problems, key string, d time.Duration) {
	if d <= 0 {
		p.addf("%s: must be > 0, got %s", key, d)
	}
}

func nonEmpty(p *Problems, key, value string) {
	if strings.TrimSpace(value) == "" {
		p.addf("%s: empty", key)
	}
}

func oneOf(p *Problems, key, value string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	p.addf("%s: must be one of %s, got %q", key, strings.Join(allowed, " | "), value)
}
