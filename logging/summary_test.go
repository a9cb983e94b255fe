package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/projectwatcher/watcher/config"
)

// summary logs the configuration line for l and decodes it.
func summary(t *testing.T, l config.Loaded) (map[string]any, string) {
	t.Helper()
	var buf bytes.Buffer
	log, err := New(config.Log{Level: "info"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	LogConfig(log, l, "1.4.0", "abc1234")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("summary is not one JSON line: %v\n%s", err, buf.String())
	}
	return m, buf.String()
}

func TestLogConfigRedactsTheURI(t *testing.T) {
	cfg := config.Defaults()
	cfg.Mongo.URI = "mongodb://alice:s3cr3t@db:27017/?replicaSet=rs0"
	m, out := summary(t, config.Loaded{Config: cfg})
	if strings.Contains(out, "s3cr3t") {
		t.Fatalf("config summary leaks the password: %s", out)
	}
	mongo, _ := m["mongo"].(map[string]any)
	if mongo["uri"] != "mongodb://alice:xxxxx@db:27017/?replicaSet=rs0" {
		t.Errorf("mongo.uri = %v", mongo["uri"])
	}
	sync, _ := m["sync"].(map[string]any)
	if cols, _ := sync["collections"].([]any); sync["workers"] != float64(cfg.Sync.Workers) || len(cols) != len(cfg.Sync.Collections) {
		t.Errorf("summary sync = %v, want workers %d and %d collections", sync, cfg.Sync.Workers, len(cfg.Sync.Collections))
	}
}

func TestLogConfigSaysWhichFileAndVersion(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		wantFile string
	}{
		{"a file", "/etc/watcher/config.yaml", "/etc/watcher/config.yaml"},
		{"no file", "", "no config file: defaults and environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := summary(t, config.Loaded{Config: config.Defaults(), File: tt.file})
			if m["configFile"] != tt.wantFile || m["version"] != "1.4.0" || m["commit"] != "abc1234" {
				t.Errorf("configFile %v, version %v, commit %v; want %q, 1.4.0, abc1234", m["configFile"], m["version"], m["commit"], tt.wantFile)
			}
			if want := "config file " + tt.wantFile + "; watcher 1.4.0 (commit abc1234)"; m["message"] != want {
				t.Errorf("message %q, want %q: the config file, then the version", m["message"], want)
			}
			if fs, _ := m["firestore"].(map[string]any); fs["callTimeout"] != "5s" || m["drainTimeout"] != "30s" {
				t.Errorf("firestore %v, drainTimeout %v: want the new timeouts", fs, m["drainTimeout"])
			}
		})
	}
}
