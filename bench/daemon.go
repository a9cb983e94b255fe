package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon is one running watcher process.
type daemon struct {
	cmd      *exec.Cmd
	httpAddr string
	out      *tailBuffer
	done     chan struct{}
	err      error
}

// configYAML is the benchmark's watcher config: the documented collections
// and field, sync.workers at its default; safety.maxDocsPerEvent is the
// default except in S4, which cleans 100,000 documents in one event.
const configYAML = `mongo:
  uri: %q
  database: %q
  collection: "projects"
firestore:
  projectId: %q
resume:
  store: "file"
  path: %q
  startAt: "now"
sync:
  idField: "projectId"
  mode: "delete"
  collections:
    - name: "storyboards"
      recursive: true
    - name: "aiAnalyses"
    - name: "generatedMedia"
  fields:
    - source: "name"
      target: "projectName"
safety:
  maxDocsPerEvent: %d
http:
  addr: %q
  pprof: true
log:
  level: "info"
`

// startDaemon writes a config and starts `watcher run`, reaching the
// emulator the way model m does, then waits until /readyz answers 200 (the
// change stream is open).
func (e *env) startDaemon(ctx context.Context, m model, fsProject, mongoDB string, maxDocs int, extraEnv ...string) (*daemon, error) {
	return e.startProc(ctx, "run", "", m, fsProject, mongoDB, maxDocs, extraEnv...)
}

// startProc is startDaemon for `watcher <command>`, its config followed by
// extraYAML (the bus section, for instance).
func (e *env) startProc(ctx context.Context, command, extraYAML string, m model, fsProject, mongoDB string, maxDocs int, extraEnv ...string) (*daemon, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(e.dir, fsProject+"-")
	if err != nil {
		return nil, fmt.Errorf("%s dir: %w", command, err)
	}
	cfg := fmt.Sprintf(configYAML, e.mongoURI, mongoDB, fsProject, filepath.Join(dir, "checkpoint.json"), maxDocs, addr) + extraYAML
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("writing config: %w", err)
	}
	d := &daemon{httpAddr: addr, out: &tailBuffer{max: 64 << 10}, done: make(chan struct{})}
	d.cmd = exec.Command(e.binary, command, "-c", cfgPath)
	d.cmd.Env = append(append(os.Environ(), "FIRESTORE_EMULATOR_HOST="+m.addr), extraEnv...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting watcher %s: %w", command, err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	if err := d.waitReady(ctx, 60*time.Second); err != nil {
		d.kill()
		return nil, err
	}
	return d, nil
}

func (d *daemon) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			return fmt.Errorf("watcher exited before it was ready (%v):\n%s", d.err, d.out.String())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get("http://" + d.httpAddr + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("watcher not ready within %s:\n%s", timeout, d.out.String())
}

// stop sends SIGTERM and waits for the exit.
func (d *daemon) stop() error {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("signalling watcher: %w", err)
	}
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		d.kill()
		return errors.New("watcher did not stop within 30 s of SIGTERM")
	}
	if d.err != nil {
		return fmt.Errorf("watcher exit: %w:\n%s", d.err, d.out.String())
	}
	return nil
}

func (d *daemon) kill() {
	_ = d.cmd.Process.Kill()
	<-d.done
}

// killIfRunning kills the watcher unless it has exited (deferred after a
// start: a measurement that fails midway leaves no process behind).
func (d *daemon) killIfRunning() {
	select {
	case <-d.done:
	default:
		d.kill()
	}
}

// metrics scrapes /metrics.
func (d *daemon) metrics() (samples, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	req, err := http.NewRequest(http.MethodGet, "http://"+d.httpAddr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	// Uncompressed: the harness polls often, and gzip would show up as the
	// watcher's own CPU time in the measurements and profiles.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping metrics: %w", err)
	}
	defer resp.Body.Close()
	return parseSamples(resp.Body)
}

// waitApplied polls the metrics until n events of kind (ProjectDeleted or
// ProjectUpdated) have been applied. Failed events are an error.
func (d *daemon) waitApplied(ctx context.Context, kind string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s, err := d.metrics()
		if err != nil {
			return err
		}
		ok := s.value("watcher_events_applied_total", "type", kind, "outcome", "ok")
		if failed := s.value("watcher_events_applied_total", "type", kind, "outcome", "error"); failed > 0 {
			return fmt.Errorf("%v %s events failed:\n%s", failed, kind, d.out.String())
		}
		if int(ok) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%v of %d %s events applied after %s", ok, n, kind, timeout)
		}
		select {
		case <-d.done:
			return fmt.Errorf("watcher exited (%v):\n%s", d.err, d.out.String())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond): // a scrape costs the watcher CPU and allocations: not too often
		}
	}
}

// procStatus reads VmHWM (peak resident set) in bytes.
func (d *daemon) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("reading /proc status: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// cpuSeconds reads the watcher's user+system CPU time.
func (d *daemon) cpuSeconds() (float64, error) { return cpuSecondsOf(d.cmd.Process.Pid) }

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
