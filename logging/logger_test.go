package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/projectwatcher/watcher/config"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name      string
		cfg       config.Log
		wantJSON  bool
		wantDebug bool // a debug message comes out
		wantErr   string
	}{
		{name: "json info", cfg: config.Log{Level: "info", Format: "json"}, wantJSON: true},
		{name: "defaults when empty", cfg: config.Log{}, wantJSON: true},
		{name: "json debug", cfg: config.Log{Level: "debug", Format: "json"}, wantJSON: true, wantDebug: true},
		{name: "console", cfg: config.Log{Level: "trace", Format: "console"}, wantDebug: true},
		{name: "bad level", cfg: config.Log{Level: "loud", Format: "json"}, wantErr: `unknown log level "loud"`},
		{name: "bad format", cfg: config.Log{Level: "info", Format: "xml"}, wantErr: `unknown log format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := New(tt.cfg, &buf)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			log.Debug().Msg("debug-line")
			log.Info().Str("component", "test").Msg("info-line")
			out := buf.String()
			if got := strings.Contains(out, "debug-line"); got != tt.wantDebug {
				t.Errorf("debug line present = %v, want %v:\n%s", got, tt.wantDebug, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			last := lines[len(lines)-1]
			var m map[string]any
			isJSON := json.Unmarshal([]byte(last), &m) == nil
			if isJSON != tt.wantJSON {
				t.Fatalf("JSON = %v, want %v: %q", isJSON, tt.wantJSON, last)
			}
			if !strings.Contains(last, "info-line") || !strings.Contains(last, "test") {
				t.Errorf("info line lacks message or component: %q", last)
			}
			if isJSON && (m["level"] != "info" || m["time"] == nil || m["component"] != "test") {
				t.Errorf("JSON line lacks level/time/component: %v", m)
			}
		})
	}
}

func TestLogConfigRedactsTheURI(t *testing.T) {
	cfg := config.Defaults()
	cfg.Mongo.URI = "mongodb://alice:s3cr3t@db:27017/?replicaSet=rs0"
	var buf bytes.Buffer
	log, err := New(config.Log{Level: "info"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	LogConfig(log, cfg)
	out := buf.String()
	if strings.Contains(out, "s3cr3t") {
		t.Fatalf("config summary leaks the password: %s", out)
	}
	var m struct {
		Mongo struct{ URI string }
		Sync  struct {
			Workers     int
			Collections []struct{ Name string }
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("summary is not one JSON line: %v\n%s", err, out)
	}
	if m.Mongo.URI != "mongodb://alice:xxxxx@db:27017/?replicaSet=rs0" {
		t.Errorf("mongo.uri = %q", m.Mongo.URI)
	}
	if m.Sync.Workers != cfg.Sync.Workers || len(m.Sync.Collections) != len(cfg.Sync.Collections) {
		t.Errorf("summary sync = %+v, want workers %d and %d collections", m.Sync, cfg.Sync.Workers, len(cfg.Sync.Collections))
	}
}
