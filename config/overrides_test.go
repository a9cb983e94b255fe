package config

import (
	"errors"
	"strings"
	"testing"
)

func TestWithOverrides(t *testing.T) {
	base := env("WATCHER_LOG_LEVEL", "warn", "WATCHER_SYNC_WORKERS", "3")
	tests := []struct {
		name      string
		overrides map[string]string
		wantLevel string
		wantDry   bool
		wantProb  string
	}{
		{"no overrides: env", nil, "warn", false, ""},
		{"flag wins over env", map[string]string{"log.level": "debug"}, "debug", false, ""},
		{"dry run", map[string]string{"safety.dryRun": "true"}, "warn", true, ""},
		{"bad flag value is a problem", map[string]string{"log.level": "loud"}, "", false, `log.level: must be one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadValid(writeFile(t, "c.yaml", ""), WithOverrides(base, tt.overrides))
			if tt.wantProb != "" {
				var p Problems
				if !errors.As(err, &p) || !strings.Contains(p.Error(), tt.wantProb) {
					t.Fatalf("err = %v, want a problem %q", err, tt.wantProb)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Log.Level != tt.wantLevel || cfg.Safety.DryRun != tt.wantDry || cfg.Sync.Workers != 3 {
				t.Errorf("level %q dryRun %v workers %d, want %q %v 3", cfg.Log.Level, cfg.Safety.DryRun, cfg.Sync.Workers, tt.wantLevel, tt.wantDry)
			}
		})
	}
}

func TestWithOverridesDefaultsToTheProcessEnvironment(t *testing.T) {
	t.Setenv("WATCHER_SYNC_WORKERS", "6")
	lookup := WithOverrides(nil, map[string]string{"log.level": "debug"})
	if v, ok := lookup("WATCHER_SYNC_WORKERS"); !ok || v != "6" {
		t.Errorf("WATCHER_SYNC_WORKERS = %q, %v; want the process environment's 6", v, ok)
	}
	if v, _ := lookup("WATCHER_LOG_LEVEL"); v != "debug" {
		t.Errorf("WATCHER_LOG_LEVEL = %q, want the override", v)
	}
}
