package config

import (
	"errors"
	"strings"
	"testing"
)

// environ turns "NAME=value" entries into a Source's environment.
func environ(entries ...string) (func(string) (string, bool), []string) {
	m := map[string]string{}
	for _, e := range entries {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }, entries
}

func TestEnvTyposAreProblems(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string // problems; none: loads cleanly
	}{
		{"a deletion", []string{"WATCHER_SYNC_WORKRS=4"},
			[]string{"WATCHER_SYNC_WORKRS: not a configuration variable (did you mean WATCHER_SYNC_WORKERS?)"}},
		{"a swap", []string{"WATCHER_LOG_LEVLE=debug"}, []string{"WATCHER_LOG_LEVLE: not a configuration variable (did you mean WATCHER_LOG_LEVEL?)"}},
		{"two edits", []string{"WATCHER_MONGO_UR=x", "WATCHER_FIRESTORE_PROJECT_ID=p"}, []string{
			"WATCHER_MONGO_UR: not a configuration variable (did you mean WATCHER_MONGO_URI?)",
			"WATCHER_FIRESTORE_PROJECT_ID: not a configuration variable (did you mean WATCHER_FIRESTORE_PROJECTID?)",
		}},
		{"lower case", []string{"watcher_sync_workers=4"}, []string{"watcher_sync_workers: not a configuration variable (did you mean WATCHER_SYNC_WORKERS?)"}},
		{"listed with the other problems", []string{"WATCHER_SYNC_WORKRS=4", "WATCHER_LEASE_TTL=soon"},
			[]string{"WATCHER_SYNC_WORKRS: not a configuration variable", "WATCHER_LEASE_TTL: not a Go duration"}},
		{"known names", []string{"WATCHER_SYNC_WORKERS=4", "WATCHER_LOG_LEVEL=debug", "WATCHER_BUS_MODE=off"}, nil},
		// A Service named "watcher" with a port named http on 8080.
		{"Kubernetes service links", []string{
			"WATCHER_PORT=tcp://10.0.0.1:8080", "WATCHER_SERVICE_HOST=10.0.0.1", "WATCHER_SERVICE_PORT=8080",
			"WATCHER_SERVICE_PORT_HTTP=8080", "WATCHER_PORT_8080_TCP=tcp://10.0.0.1:8080",
			"WATCHER_PORT_8080_TCP_PROTO=tcp", "WATCHER_PORT_8080_TCP_PORT=8080", "WATCHER_PORT_8080_TCP_ADDR=10.0.0.1",
		}, nil},
		{"the tests' variables", []string{
			"WATCHER_TEST_MONGO_URI=mongodb://x", "WATCHER_CRASHPOINT=mid-cleanup:1", "WATCHER_E2E_BUILD_TAGS=crashpoints",
		}, nil},
		{"far from every key", []string{"WATCHER_COLOUR=blue", "WATCHER_=x", "WATCHER=1", "PATH=/bin"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup, names := environ(tt.env...)
			_, err := Source{Path: writeFile(t, "c.yaml", ""), LookupEnv: lookup, Environ: names}.Load()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			var problems Problems
			if !errors.As(err, &problems) {
				t.Fatalf("Load error = %v, want Problems", err)
			}
			assertProblems(t, problems, tt.want)
		})
	}
}

// TestNoEnvironNoNameCheck: a lookup without the list of names cannot be
// checked (deploy's tests load with a lookup of their own).
func TestNoEnvironNoNameCheck(t *testing.T) {
	lookup, _ := environ("WATCHER_SYNC_WORKRS=4")
	if _, err := (Source{Path: writeFile(t, "c.yaml", ""), LookupEnv: lookup}).Load(); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

func TestLoadChecksTheProcessEnvironment(t *testing.T) {
	t.Setenv("WATCHER_SYNC_WORKRS", "4")
	_, err := Load(writeFile(t, "c.yaml", ""), nil)
	if err == nil || !strings.Contains(err.Error(), "did you mean WATCHER_SYNC_WORKERS?") {
		t.Fatalf("Load with the process environment: %v, want the typo reported", err)
	}
}
