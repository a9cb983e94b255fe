package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// profileSeconds is how long the profiles taken during the first watcher
// run of S1 and S4 last (from the moment the burst starts).
const profileSeconds = 8

// profileLines is how many lines of `go tool pprof -top` the report keeps.
const profileLines = 18

// profiledScenarios are the scenarios whose watcher is profiled.
var profiledScenarios = map[string]bool{"S1": true, "S4": true}

// profileKinds are the profiles taken: CPU time, and the bytes allocated
// over the same seconds (a delta of the allocs profile).
var profileKinds = []struct {
	name, path, sampleIndex string
}{
	{"cpu", "profile", ""},
	{"allocs", "allocs", "alloc_space"},
}

// profileIfWanted starts the profiles of the watcher when this run is
// profiled (first repetition of S1 or S4 under the profiled model); the
// returned function waits for them and keeps the top of each in
// b.profiles. The profiles themselves are kept in the profile directory
// for a closer look (`go tool pprof -http=: binary file`).
func (b *bench) profileIfWanted(ctx context.Context, d *daemon, scenario string, m model, rep int) func() error {
	if rep != 1 || b.cfg.profileDir == "" || !profiledScenarios[scenario] || m.name != b.cfg.profileModel {
		return func() error { return nil }
	}
	done := make(chan error, len(profileKinds))
	for _, k := range profileKinds {
		file := filepath.Join(b.cfg.profileDir, fmt.Sprintf("%s-%s-watcher.%s.pprof", scenario, m.name, k.name))
		go func() {
			url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", d.httpAddr, k.path, profileSeconds)
			err := fetchProfile(ctx, url, file)
			if err == nil {
				var top string
				top, err = pprofTop(ctx, b.env.binary, file, k.sampleIndex)
				b.setProfile(fmt.Sprintf("%s %s %s", scenario, m.name, k.name), top)
			}
			done <- err
		}()
	}
	return func() error {
		var errs []error
		for range profileKinds {
			errs = append(errs, <-done)
		}
		return errors.Join(errs...)
	}
}

func (b *bench) setProfile(name, top string) {
	b.profilesMu.Lock()
	defer b.profilesMu.Unlock()
	b.profiles[name] = top
}

// pprofTop is the head of `go tool pprof -top` for a profile.
func pprofTop(ctx context.Context, binary, file, sampleIndex string) (string, error) {
	args := []string{"tool", "pprof", "-top", fmt.Sprintf("-nodecount=%d", profileLines)}
	if sampleIndex != "" {
		args = append(args, "-sample_index="+sampleIndex)
	}
	out, err := exec.CommandContext(ctx, "go", append(args, binary, file)...).Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof %s: %w", file, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[:min(len(lines), profileLines+6)], "\n"), nil
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
		return fmt.Errorf("profile: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: %s", url, resp.Status)
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
		return fmt.Errorf("profile: %w", err)
	}
	return f.Close()
}
