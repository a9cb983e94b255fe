package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/watchertest"
)

// setup describes one daemon's configuration in a test.
type setup struct {
	mongoURI    string
	mongoDB     string // database of the projects collection and of the watcher's own collections
	fsProject   string // Firestore project id (one per test)
	store       string // mongo | file
	storePath   string
	mode        string // delete | archive
	startAt     string
	extraConfig string // appended YAML (top-level keys not written below)
	bin         string // the watcher binary to run; empty: the release build
}

// writeConfig writes the setup as a config file and returns its path and the
// HTTP address the daemon will listen on.
func (s setup) writeConfig(t *testing.T) (path, httpAddr string) {
	t.Helper()
	httpAddr = freeAddr(t)
	store, mode, startAt := s.store, s.mode, s.startAt
	if store == "" {
		store = "mongo"
	}
	if mode == "" {
		mode = "delete"
	}
	if startAt == "" {
		startAt = "now"
	}
	storePath := s.storePath
	if storePath == "" {
		storePath = filepath.Join(t.TempDir(), "checkpoint.json")
	}
	cfg := fmt.Sprintf(`mongo:
  uri: %q
  database: %q
  collection: "projects"
firestore:
  projectId: %q
resume:
  store: %q
  name: "e2e"
  database: %q
  collection: "checkpoints"
  path: %q
  startAt: %q
  checkpointInterval: "100ms"
sync:
  idField: "projectId"
  mode: %q
  workers: 4
  collections:
    - name: "storyboards"
      recursive: true
    - name: "aiAnalyses"
    - name: "generatedMedia"
      group: true
  fields:
    - source: "name"
      target: "projectName"
    - source: "owner.team"
      target: "project.team"
      collections: ["storyboards"]
http:
  addr: %q
log:
  level: "debug"
%s`, s.mongoURI, s.mongoDB, s.fsProject, store, s.mongoDB, storePath, startAt, mode, httpAddr, s.extraConfig)
	path = filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, httpAddr
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// daemon is a running watcher process.
type daemon struct {
	t        *testing.T
	cmd      *exec.Cmd
	httpAddr string
	logs     *watchertest.LogBuffer
	done     chan struct{}
	exitCode int
}

// startDaemon runs `watcher run -c config` with the given extra environment.
func startDaemon(t *testing.T, s setup, env ...string) *daemon {
	t.Helper()
	return startProcess(t, s, "run", "watcher", env...)
}

// startProcess runs `watcher <command> -c config` (the setup's binary) with
// the given extra environment; it is killed at the test's end if still
// running, and its output logged (as name) if the test failed.
func startProcess(t *testing.T, s setup, command, name string, env ...string) *daemon {
	t.Helper()
	cfgPath, httpAddr := s.writeConfig(t)
	d := &daemon{t: t, httpAddr: httpAddr, logs: &watchertest.LogBuffer{}, done: make(chan struct{})}
	bin := s.bin
	if bin == "" {
		bin = binary
	}
	d.cmd = exec.Command(bin, command, "-c", cfgPath)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := d.cmd.Wait()
		d.exitCode = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			d.exitCode = ee.ExitCode()
		} else if err != nil {
			d.exitCode = -1
		}
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, d.logs.String())
		}
	})
	return d
}

// waitReady waits until /readyz answers 200 (the change stream is open).
func (d *daemon) waitReady(timeout time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			d.t.Fatalf("watcher exited with %d before it was ready", d.exitCode)
		default:
		}
		resp, err := client.Get("http://" + d.httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.t.Fatalf("watcher not ready within %s", timeout)
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.t.Fatal(err)
	}
	if code := d.wait(30 * time.Second); code != 0 {
		d.t.Fatalf("watcher exited with %d after SIGTERM, want 0", code)
	}
}

// wait waits for the process to exit and returns its exit code.
func (d *daemon) wait(timeout time.Duration) int {
	d.t.Helper()
	select {
	case <-d.done:
		return d.exitCode
	case <-time.After(timeout):
		d.t.Fatalf("watcher still running after %s", timeout)
		return -1
	}
}

// eventually polls cond until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		last = cond(ctx)
		cancel()
		if last == nil {
			return
		}
		time.Sleep(150 * time.Millisecond)
	}
	t.Fatalf("condition not met within %s: %v", timeout, last)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
