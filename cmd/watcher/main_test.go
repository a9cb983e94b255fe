package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/resume"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The binary under test, built once by TestMain with known ldflags.
var binary string

const (
	testVersion = "9.8.7-test"
	testCommit  = "c0ffee"
)

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "watcher-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "watcher")
	build := exec.Command("go", "build", "-o", binary,
		"-ldflags", "-X main.version="+testVersion+" -X main.commit="+testCommit, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the watcher binary:", err)
		return 1
	}
	return m.Run()
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the binary in an empty directory (no ./config.yaml) with a
// clean environment plus env.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("running %v: %v", args, err)
	}
	return r
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCLI(t *testing.T) {
	repoConfig, err := filepath.Abs("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := writeConfig(t, brokenConfig)
	for _, tc := range cliCases(repoConfig, broken) {
		t.Run(tc.name, func(t *testing.T) { checkCLI(t, tc) })
	}
}

// brokenConfig has the problems brokenProblems lists, and a password that
// no output may show.
const brokenConfig = `
mongo:
  uri: "mongodb://alice:s3cr3t@db/"
  databse: x
sync:
  workers: 0
  mode: wipe
  collections: []
resume:
  checkpointInterval: soon
log:
  format: xml
`

var brokenProblems = []string{
	"mongo.databse: unknown key",
	"resume.checkpointInterval: not a Go duration",
	"sync.workers: must be >= 1",
	"sync.mode: must be one of delete | archive",
	"sync.collections: empty",
	"log.format: must be one of json | console",
}

// cliCase is one run of the binary and what it must exit with and print.
type cliCase struct {
	name      string
	env       []string
	args      []string
	wantCode  int
	wantOut   []string // substrings of stdout
	wantErr   []string // substrings of stderr
	notWanted string   // must appear in neither output
	wantLines int      // when > 0: stdout line count
	// when > 0: stderr line count; stdout must then be empty
	wantErrLines int
}

// cliCases are TestCLI's runs; repoConfig is the repository's config.yaml,
// broken a file holding brokenConfig.
func cliCases(repoConfig, broken string) []cliCase {
	return []cliCase{
		{name: "validate the repo config", args: []string{"config", "validate", "-c", repoConfig}, wantCode: 0,
			wantOut: []string{"config file " + repoConfig + "\nok\n"}, wantLines: 2},
		{name: "validate defaults without a file", args: []string{"config", "validate"}, wantCode: 0,
			wantOut: []string{"no config file: defaults and environment\nok\n"}, wantLines: 2},
		{name: "validate lists every problem on stderr", args: []string{"config", "validate", "-c", broken}, wantCode: 2,
			wantErr:      append([]string{"invalid configuration (6 problems; config file " + broken + "):"}, brokenProblems...),
			wantErrLines: len(brokenProblems) + 1, notWanted: "s3cr3t"},
		{name: "validate sees env overrides", env: []string{"WATCHER_SYNC_WORKERS=-3", "WATCHER_LEASE_TTL=1x"},
			args: []string{"config", "validate", "-c", repoConfig}, wantCode: 2,
			wantErr: []string{"sync.workers: must be >= 1, got -3", "WATCHER_LEASE_TTL: not a Go duration"}, wantErrLines: 3},
		{name: "--log-level is validated", args: []string{"config", "validate", "--log-level", "loud"}, wantCode: 2,
			wantErr: []string{"invalid configuration (1 problem; no config file: defaults and environment):", `log.level: must be one of`}},
		{name: "explicit config missing", args: []string{"config", "validate", "-c", "/nonexistent/config.yaml"}, wantCode: 2,
			wantErr: []string{"no such file"}},
		{name: "run with a broken config", args: []string{"run", "-c", broken}, wantCode: 2,
			wantErr: append([]string{"invalid configuration (6 problems; config file " + broken + "):"}, brokenProblems...), notWanted: "s3cr3t"},
		{name: "unknown flag", args: []string{"version", "--bogus"}, wantCode: 2, wantErr: []string{"unknown flag: --bogus", "Run 'watcher version --help' for usage."}},
		{name: "unknown flag of a subcommand", args: []string{"dlq", "retry", "--bogus"}, wantCode: 2,
			wantErr: []string{"unknown flag: --bogus", "Run 'watcher dlq retry --help' for usage."}},
		{name: "unknown subcommand", args: []string{"dlq", "frobnicate"}, wantCode: 2,
			wantErr: []string{`unknown command "frobnicate" for "watcher dlq"`, "Run 'watcher dlq --help' for usage."}},
		{name: "a group alone prints its help", args: []string{"checkpoint"}, wantCode: 0, wantOut: []string{"show", "reset"}},
		{name: "usage error of a subcommand", args: []string{"dlq", "retry"}, wantCode: 2,
			wantErr: []string{"give a dead letter ID", "Run 'watcher dlq retry --help' for usage."}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantErr: []string{`unknown command "frobnicate"`}},
		{name: "unexpected argument", args: []string{"config", "validate", "extra"}, wantCode: 2},
		{name: "version", args: []string{"version"}, wantCode: 0, wantOut: []string{"watcher " + testVersion + "\n", "commit  " + testCommit + "\n", "go1.26"}},
		{name: "--version", args: []string{"--version"}, wantCode: 0, wantOut: []string{"watcher " + testVersion + "\n", "commit  " + testCommit + "\n", "go1.26"}, wantLines: 3},
		{name: "reset without --yes refuses", args: []string{"checkpoint", "reset"}, wantCode: 2, wantErr: []string{"pass --yes"}},
	}
}

// checkCLI runs the binary as tc says and checks its exit code and output.
func checkCLI(t *testing.T, tc cliCase) {
	r := run(t, tc.env, tc.args...)
	if r.code != tc.wantCode {
		t.Errorf("exit code %d, want %d", r.code, tc.wantCode)
	}
	for _, w := range tc.wantOut {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q", w)
		}
	}
	for _, w := range tc.wantErr {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q", w)
		}
	}
	if tc.wantErrLines > 0 {
		if n := len(strings.Split(strings.TrimSpace(r.stderr), "\n")); n != tc.wantErrLines || r.stdout != "" {
			t.Errorf("stderr has %d lines, want %d; stdout %q, want empty", n, tc.wantErrLines, r.stdout)
		}
	}
	if tc.wantLines > 0 {
		if n := len(strings.Split(strings.TrimSpace(r.stdout), "\n")); n != tc.wantLines {
			t.Errorf("stdout has %d lines, want %d", n, tc.wantLines)
		}
	}
	if tc.notWanted != "" && strings.Contains(r.stdout+r.stderr, tc.notWanted) {
		t.Errorf("output contains %q", tc.notWanted)
	}
	if t.Failed() {
		t.Log(r)
	}
}

func TestHealthcheck(t *testing.T) {
	server := func(status int) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(status)
			fmt.Fprintf(w, "status %d", status)
		}))
		t.Cleanup(s.Close)
		return s
	}
	healthy, unhealthy := server(http.StatusOK), server(http.StatusServiceUnavailable)
	addr := strings.TrimPrefix(healthy.URL, "http://")
	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"200 is healthy", nil, []string{"healthcheck", "--url", healthy.URL + "/healthz"}, 0, ""},
		{"503 is unhealthy", nil, []string{"healthcheck", "--url", unhealthy.URL + "/healthz"}, 1, "503"},
		{"nothing listening", nil, []string{"healthcheck", "--url", "http://127.0.0.1:1/healthz"}, 1, "unhealthy"},
		{"url from http.addr of the config", nil, []string{"healthcheck", "-c", writeConfig(t, "http:\n  addr: "+addr+"\n")}, 0, ""},
		{"url from WATCHER_HTTP_ADDR", []string{"WATCHER_HTTP_ADDR=" + addr}, []string{"healthcheck"}, 0, ""},
		{"http.addr despite other problems", []string{"WATCHER_MONGO_URIFILE=/nonexistent"},
			[]string{"healthcheck", "-c", writeConfig(t, "http:\n  addr: "+addr+"\n")}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("got %v\nwant exit %d and stderr containing %q", r, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestCheckpointWithFileStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint.json")
	cfg := writeConfig(t, "resume:\n  store: file\n  name: cli-test\n  path: "+path+"\n")

	r := run(t, nil, "checkpoint", "show", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, `no checkpoint stored for "cli-test" in file `+path) {
		t.Fatalf("show before any save: %v", r)
	}
	r = run(t, nil, "checkpoint", "show", "--json", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, `"found": false`) || !strings.Contains(r.stdout, `"path": "`+path+`"`) {
		t.Fatalf("show --json before any save: %v", r)
	}

	token, err := bson.Marshal(bson.D{{Key: "_data", Value: "8266AABB"}})
	if err != nil {
		t.Fatal(err)
	}
	store := resume.NewFileStore(path, "cli-test")
	cp := event.Checkpoint{Token: token, ClusterTime: bson.Timestamp{T: 1714557600, I: 2}, SavedAt: time.Now().Add(-time.Hour)}
	if err := store.Save(context.Background(), cp); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "checkpoint", "show", "-c", cfg)
	for _, want := range []string{"store:       file " + path + "\n", "8266AABB", "2024-05-01T10:00:00Z", "age:         1h"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show lacks %q: %v", want, r)
		}
	}
	r = run(t, nil, "checkpoint", "show", "--json", "-c", cfg)
	for _, want := range []string{`"found": true`, `"kind": "file"`, `"_data": "8266AABB"`, `"t": 1714557600`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show --json lacks %q: %v", want, r)
		}
	}

	if r = run(t, nil, "checkpoint", "reset", "-c", cfg); r.code != 2 {
		t.Errorf("reset without --yes: %v", r)
	}
	if _, ok, err := store.Load(context.Background()); err != nil || !ok {
		t.Fatalf("a refused reset must keep the checkpoint: ok=%v err=%v", ok, err)
	}
	if r = run(t, nil, "checkpoint", "reset", "--yes", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, `checkpoint "cli-test" reset`) {
		t.Errorf("reset --yes: %v", r)
	}
	if _, ok, err := store.Load(context.Background()); err != nil || ok {
		t.Errorf("after reset: ok=%v err=%v, want no checkpoint", ok, err)
	}
}
