package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigValidateEnvironmentAndFiles(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		wantCode int
		wantErr  []string
	}{
		{"a misspelt variable", []string{"WATCHER_SYNC_WORKRS=4"}, 2,
			[]string{"invalid configuration (1 problem;", "WATCHER_SYNC_WORKRS: not a configuration variable (did you mean WATCHER_SYNC_WORKERS?)"}},
		{"listed with the other problems", []string{"WATCHER_SYNC_WORKRS=4", "WATCHER_LOG_LEVEL=loud"}, 2,
			[]string{"invalid configuration (2 problems;", "did you mean WATCHER_SYNC_WORKERS?", "log.level: must be one of"}},
		{"Kubernetes service links of a Service named watcher", []string{
			"WATCHER_PORT=tcp://10.0.0.1:8080", "WATCHER_SERVICE_HOST=10.0.0.1", "WATCHER_SERVICE_PORT=8080",
			"WATCHER_SERVICE_PORT_HTTP=8080", "WATCHER_PORT_8080_TCP=tcp://10.0.0.1:8080", "WATCHER_PORT_8080_TCP_PROTO=tcp",
			"WATCHER_PORT_8080_TCP_PORT=8080", "WATCHER_PORT_8080_TCP_ADDR=10.0.0.1",
		}, 0, nil},
		{"the tests' variables", []string{"WATCHER_TEST_MONGO_URI=mongodb://127.0.0.1:1/", "WATCHER_CRASHPOINT=mid-cleanup:1"}, 0, nil},
		{"a credentials file that does not exist", []string{"WATCHER_FIRESTORE_CREDENTIALSFILE=/nonexistent/sa.json"}, 2,
			[]string{"firestore.credentialsFile: open /nonexistent/sa.json: no such file or directory"}},
		{"a URI file that does not exist", []string{"WATCHER_MONGO_URIFILE=/nonexistent/uri"}, 2,
			[]string{"mongo.uriFile: open /nonexistent/uri: no such file or directory"}},
		{"a collection path", []string{`WATCHER_SYNC_COLLECTIONS=[{"name": "a/b"}]`, "WATCHER_SYNC_FIELDS=[]"}, 2,
			[]string{`sync.collections[0].name: "a/b": a collection id, not a path`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, "config", "validate")
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d", r.code, tt.wantCode)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
			if tt.wantCode == 0 && !strings.HasSuffix(r.stdout, "ok\n") {
				t.Errorf("stdout does not end in ok")
			}
			if t.Failed() {
				t.Log(r)
			}
		})
	}
}

func TestConfigPrint(t *testing.T) {
	dir := t.TempDir()
	uriFile := filepath.Join(dir, "uri")
	if err := os.WriteFile(uriFile, []byte("mongodb://bob:filesecret@secret-host:27017/?replicaSet=rs0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := writeConfig(t, "sync:\n  workers: 3\nlog:\n  level: warn\n")
	tests := []struct {
		name      string
		env       []string
		args      []string
		want      []string
		notWanted []string
	}{
		{"file and environment merged, password redacted",
			[]string{"WATCHER_MONGO_URI=mongodb://alice:s3cr3t@db1:27017/?replicaSet=rs0", "WATCHER_LOG_LEVEL=debug"},
			[]string{"config", "print", "-c", file},
			[]string{"# config file " + file + ", with the environment's overrides\n", "  workers: 3\n", `  level: "debug"`,
				`uri: "mongodb://alice:xxxxx@db1:27017/?replicaSet=rs0" # redacted`, `checkpointInterval: "1s"`, "bus:\n"},
			[]string{"s3cr3t"}},
		{"no file", nil, []string{"config", "print"},
			[]string{"# no config file: defaults and environment", `uri: "mongodb://localhost:27017/?replicaSet=rs0"` + "\n"}, []string{"# redacted"}},
		{"the URI file's content is never shown", []string{"WATCHER_MONGO_URIFILE=" + uriFile}, []string{"config", "print"},
			[]string{`uri: "" # read from mongo.uriFile (not shown)`, `uriFile: "` + uriFile + `"`}, []string{"filesecret", "secret-host", "bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, tt.args...)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q", w)
				}
			}
			for _, n := range tt.notWanted {
				if strings.Contains(r.stdout+r.stderr, n) {
					t.Errorf("output contains %q", n)
				}
			}
			if t.Failed() {
				t.Log(r)
			}
		})
	}

	t.Run("the printed YAML validates", func(t *testing.T) {
		r := run(t, []string{"WATCHER_SYNC_WORKERS=5"}, "config", "print")
		printed := writeConfig(t, r.stdout)
		if v := run(t, nil, "config", "validate", "-c", printed); v.code != 0 {
			t.Errorf("config validate of config print's output: %v", v)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := run(t, []string{"WATCHER_MONGO_URIFILE=" + uriFile}, "config", "print", "--json", "-c", file)
		var m struct {
			Mongo struct{ URI, URIFile string }
			Sync  struct{ Workers int }
		}
		if err := json.Unmarshal([]byte(r.stdout), &m); err != nil || r.code != 0 {
			t.Fatalf("%v (%v)", r, err)
		}
		if m.Sync.Workers != 3 || m.Mongo.URI != "" || m.Mongo.URIFile != uriFile || strings.Contains(r.stdout, "filesecret") {
			t.Errorf("decoded %+v from\n%s", m, r.stdout)
		}
	})
	t.Run("problems instead of a print", func(t *testing.T) {
		r := run(t, []string{"WATCHER_SYNC_WORKRS=4"}, "config", "print")
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "did you mean WATCHER_SYNC_WORKERS?") {
			t.Errorf("%v", r)
		}
	})
}
