package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestStatusAndMetricsNameTheBuild: a running daemon names its build in
// /status and watcher_build_info, as `watcher version` prints it.
func TestStatusAndMetricsNameTheBuild(t *testing.T) {
	version, commit := binaryVersion(t)
	w := newWorld(t)
	d := startDaemon(t, w.setup())
	d.waitReady(30 * time.Second)
	defer d.stop()
	checkBuild(t, d, version, commit)
}

// TestWorkerStatusAndMetricsNameTheBuild: so does `watcher worker`.
func TestWorkerStatusAndMetricsNameTheBuild(t *testing.T) {
	version, commit := binaryVersion(t)
	w := newWorld(t)
	s := w.busSetup(t, "")
	runBusSetup(t, s)
	wk := startWorker(t, s)
	wk.waitReady(30 * time.Second)
	defer wk.stop()
	checkBuild(t, wk, version, commit)
}

// binaryVersion is the version and commit `watcher version` prints.
func binaryVersion(t *testing.T) (version, commit string) {
	t.Helper()
	out, err := exec.Command(binary, "version").Output()
	if err != nil {
		t.Fatalf("watcher version: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "watcher "); ok {
			version = strings.TrimSpace(v)
		}
		if c, ok := strings.CutPrefix(line, "commit"); ok {
			commit = strings.Fields(c)[0]
		}
	}
	if version == "" || commit == "" {
		t.Fatalf("watcher version printed %q: no version or commit", out)
	}
	return version, commit
}

// checkBuild checks d's /status "build" and watcher_build_info against
// version and commit.
func checkBuild(t *testing.T, d *daemon, version, commit string) {
	t.Helper()
	_, body, err := d.get("/status")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Build struct{ Version, Commit, GoVersion string } `json:"build"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Build.Version != version || !strings.HasPrefix(doc.Build.Commit, commit) || !strings.HasPrefix(doc.Build.GoVersion, "go") {
		t.Errorf("/status build %+v, want version %q and commit %q as `watcher version` prints them", doc.Build, version, commit)
	}
	if v, ok := d.metric("watcher_build_info", `version="`+version+`"`, `commit="`+doc.Build.Commit+`"`); !ok || v != 1 {
		t.Errorf("watcher_build_info{version=%q,commit=%q} = %v (served: %v), want 1", version, doc.Build.Commit, v, ok)
	}
}
