package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binary is the watcher built once for every test of the package.
var binary string

// buildDir holds the binaries built for the tests.
var buildDir string

// crashpointBinary builds, on first use, the watcher with the "crashpoints"
// tag: the only build in which WATCHER_CRASHPOINT kills the process. The
// other tests keep running the release build.
var crashpointBinary = sync.OnceValues(func() (string, error) {
	out := filepath.Join(buildDir, "watcher-crashpoints")
	return out, goBuild(out, "crashpoints")
})

// goBuild builds cmd/watcher into out with the given build tags.
func goBuild(out, tags string) error {
	args := []string{"build", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, "../cmd/watcher")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the watcher (tags %q): %w", tags, err)
	}
	return nil
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "watcher-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	buildDir = dir
	binary = filepath.Join(dir, "watcher")
	if err := goBuild(binary, os.Getenv("WATCHER_E2E_BUILD_TAGS")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}
