package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// profileSeconds is how long the CPU profile taken during the first watcher
// run of S1, S2 and S4 lasts (from the moment the burst starts).
const profileSeconds = 8

// profileLines is how many lines of `go tool pprof -top` the report keeps.
const profileLines = 18

// cpuProfile fetches a CPU profile of the watcher (config http.pprof) over
// the next seconds, in the background. The returned function waits for it
// and returns the top of `go tool pprof -top` for it; the profile itself is
// kept at path for a closer look (`go tool pprof -http=: binary path`).
func (d *daemon) cpuProfile(ctx context.Context, binary, path string, seconds int) func() (string, error) {
	done := make(chan error, 1)
	go func() {
		done <- fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", d.httpAddr, seconds), path)
	}()
	return func() (string, error) {
		if err := <-done; err != nil {
			return "", err
		}
		out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", fmt.Sprintf("-nodecount=%d", profileLines), binary, path).Output()
		if err != nil {
			return "", fmt.Errorf("go tool pprof: %w", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return strings.Join(lines[:min(len(lines), profileLines+6)], "\n"), nil
	}
}

func fetchProfile(ctx context.Context, url, path string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cpu profile: %s", resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	return f.Close()
}
