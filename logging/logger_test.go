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
