package e2e

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/pubsubtest"
)

// busConfig is the configuration the event bus tests add: publish mode on
// the test's own Pub/Sub project (bus.projectId defaults to the test's
// Firestore project id), short retries, a short drain.
const busConfig = `bus:
  mode: "publish"
  topic: "project-events"
  subscription: "project-events-workers"
  deadLetterTopic: "project-events-dead"
  maxDeliveryAttempts: 5
shutdown:
  drainTimeout: "2s"
`

// busRetry is the tests' retry policy, unless a test sets its own.
const busRetry = `retry:
  initialBackoff: "50ms"
  maxBackoff: "1s"
  maxAttempts: 5
`

// busSetup is the world's setup in publish mode; extra is appended.
func (w *world) busSetup(t *testing.T, extra string) setup {
	t.Helper()
	pubsubtest.RequireEmulator(t)
	s := w.setup()
	s.startAt = startBefore()
	s.extraConfig = busConfig + fmt.Sprintf("deadLetter:\n  database: %q\n  collection: %q\n", w.dbName, deadLetterCollection) + extra
	if !strings.Contains(extra, "retry:") {
		s.extraConfig += busRetry
	}
	return s
}

// runBusSetup runs `watcher bus setup` for s and fails the test unless it
// exits 0 having created the four resources.
func runBusSetup(t *testing.T, s setup) {
	t.Helper()
	cfg, _ := s.writeConfig(t)
	out, code := runCommand(t, s, "bus", "setup", "-c", cfg)
	if code != 0 || strings.Count(out, ": created") != 4 {
		t.Fatalf("watcher bus setup: exit %d\n%s", code, out)
	}
}

// runCommand runs the watcher binary with args and returns its output
// and exit code.
func runCommand(t *testing.T, s setup, args ...string) (string, int) {
	t.Helper()
	bin := s.bin
	if bin == "" {
		bin = binary
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("running watcher %v: %v", args, err)
	}
	return string(out), 0
}

// startWorker runs `watcher worker -c config` (a config of its own: its
// own HTTP address) with the given extra environment.
func startWorker(t *testing.T, s setup, env ...string) *daemon {
	t.Helper()
	return startProcess(t, s, "worker", "worker", env...)
}

// startWorkers starts n workers and waits until each is ready.
func startWorkers(t *testing.T, s setup, n int) []*daemon {
	t.Helper()
	ws := make([]*daemon, n)
	for i := range ws {
		ws[i] = startWorker(t, s)
	}
	for _, wk := range ws {
		wk.waitReady(30 * time.Second)
	}
	return ws
}

// stopAll stops each process with SIGTERM (a clean exit expected).
func stopAll(ds ...*daemon) {
	for _, d := range ds {
		d.stop()
	}
}

// sumMetric sums an unlabelled sample over the processes' /metrics.
func sumMetric(t *testing.T, name string, ds ...*daemon) float64 {
	t.Helper()
	total := 0.0
	for _, d := range ds {
		_, body, err := d.get("/metrics")
		if err != nil {
			t.Fatalf("/metrics: %v", err)
		}
		if v := metricValue(body, name); v > 0 {
			total += v
		}
	}
	return total
}

// appliedLines returns the workers' "event applied" log lines of eventID.
func appliedLines(eventID string, ds ...*daemon) []string {
	var out []string
	for _, d := range ds {
		for _, line := range strings.Split(d.logs.String(), "\n") {
			if strings.Contains(line, `"eventId":"`+eventID+`"`) && strings.Contains(line, `"message":"event applied"`) {
				out = append(out, line)
			}
		}
	}
	return out
}

var publishedLine = regexp.MustCompile(`"projectId":"([0-9a-f]{24})","kind":"(\w+)","eventId":"([0-9a-f]{24})".*"message":"event published"`)

// published lists (projectId, kind, eventId) of a leader's "event
// published" log lines, in order.
func published(d *daemon) [][3]string {
	var out [][3]string
	for _, m := range publishedLine.FindAllStringSubmatch(d.logs.String(), -1) {
		out = append(out, [3]string{m[1], m[2], m[3]})
	}
	return out
}
