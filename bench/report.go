package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// scenarioResult is one scenario's repetitions and their medians.
type scenarioResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Runs        []run  `json:"runs"`
	Median      run    `json:"median"`
}

// report is everything one `make bench` measured.
type report struct {
	Started         time.Time        `json:"started"`
	DurationSeconds float64          `json:"durationSeconds"`
	CPUs            int              `json:"cpus"`
	Machine         string           `json:"machine"`
	Emulator        string           `json:"firestoreEmulatorVersion"`
	Mongo           string           `json:"mongo"`
	Repeats         int              `json:"repeats"`
	Scenarios       []scenarioResult `json:"scenarios"`
	// Profiles: per scenario, the top of a CPU profile of the watcher
	// during its first run (profiles/<scenario>-watcher.cpu.pprof).
	Profiles map[string]string `json:"watcherCpuProfileTop,omitempty"`
	// Probe: what single calls cost the backend as a collection grows.
	Probe []probeResult `json:"backendProbe,omitempty"`
}

func summarize(name, desc string, runs []run) scenarioResult {
	pick := func(f func(run) float64) float64 { return median(runs, f) }
	m := run{
		Watcher:    pick(func(r run) float64 { return r.Watcher }),
		Floor:      pick(func(r run) float64 { return r.Floor }),
		Baseline:   pick(func(r run) float64 { return r.Baseline }),
		PeakRSS:    int64(pick(func(r run) float64 { return float64(r.PeakRSS) })),
		P50:        pick(func(r run) float64 { return r.P50 }),
		P95:        pick(func(r run) float64 { return r.P95 }),
		P99:        pick(func(r run) float64 { return r.P99 }),
		CPUSeconds: pick(func(r run) float64 { return r.CPUSeconds }),

		EmulatorCPUWatcher:  pick(func(r run) float64 { return r.EmulatorCPUWatcher }),
		EmulatorCPUFloor:    pick(func(r run) float64 { return r.EmulatorCPUFloor }),
		EmulatorCPUBaseline: pick(func(r run) float64 { return r.EmulatorCPUBaseline }),
	}
	for _, r := range runs {
		m.BaselineEstimated = m.BaselineEstimated || r.BaselineEstimated
	}
	if len(runs) > 0 {
		m.Docs, m.Events = runs[0].Docs, runs[0].Events
	}
	return scenarioResult{Name: name, Description: desc, Runs: runs, Median: m}
}

// markdown renders the results table and the environment.
func (r report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s; Firestore emulator %s; MongoDB: %s.\n",
		r.Started.Format("2006-01-02 15:04 MST"), r.Machine, r.Emulator, r.Mongo)
	fmt.Fprintf(&b, "Each value is the median of %d runs; the whole run took %.0f s. Command: `make bench`.\n\n",
		r.Repeats, r.DurationSeconds)
	b.WriteString("| scenario | watcher | floor | baseline | watcher/floor | baseline/watcher | peak RSS |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, s := range r.Scenarios {
		m := s.Median
		watcher := seconds(m.Watcher)
		switch {
		case m.P99 != 0:
			watcher = fmt.Sprintf("p50 %s, p95 %s, p99 %s", millis(m.P50), millis(m.P95), millis(m.P99))
		case m.Watcher == 0 && m.CPUSeconds != 0:
			watcher = fmt.Sprintf("%.3f CPU s", m.CPUSeconds)
		}
		baseline := seconds(m.Baseline)
		if m.BaselineEstimated && m.Baseline != 0 {
			baseline = "≈ " + baseline + " (extrapolated)"
		}
		fmt.Fprintf(&b, "| %s: %s | %s | %s | %s | %s | %s | %s |\n", s.Name, s.Description, watcher,
			seconds(m.Floor), baseline, ratio(m.Watcher, m.Floor), ratio(m.Baseline, m.Watcher), mib(m.PeakRSS))
	}
	b.WriteString("\nWhere the time goes: CPU seconds of the emulator during each variant (the work it asks of the backend) and of the watcher process itself.\n\n")
	b.WriteString("| scenario | emulator CPU: watcher | emulator CPU: floor | emulator CPU: baseline | watcher process CPU |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, s := range r.Scenarios {
		m := s.Median
		if m.EmulatorCPUWatcher == 0 && m.EmulatorCPUFloor == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", s.Name, cpuSec(m.EmulatorCPUWatcher), cpuSec(m.EmulatorCPUFloor),
			cpuSec(m.EmulatorCPUBaseline), cpuSec(m.CPUSeconds))
	}
	if len(r.Probe) > 0 {
		b.WriteString("\nWhat one call costs the backend as the collection grows (median of 9, ms; 1 in 10 documents per project):\n\n")
		b.WriteString("| documents in the collection | query projectId == x (10 results) | query projectId in [10 ids] (100 results) | list a document's subcollections | get a document |\n")
		b.WriteString("|---|---|---|---|---|\n")
		for _, p := range r.Probe {
			fmt.Fprintf(&b, "| %d | %.1f | %.1f | %.1f | %.1f |\n", p.Documents, p.EqualQuery, p.InQuery, p.ListColls, p.Get)
		}
	}
	for _, s := range r.Scenarios {
		top, ok := r.Profiles[s.Name]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\nCPU profile of the watcher, first %d s of %s's first run (`go tool pprof -top`; file: profiles/%s-watcher.cpu.pprof):\n\n```\n%s\n```\n",
			profileSeconds, s.Name, s.Name, top)
	}
	return b.String()
}

func seconds(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f s", v)
}

func cpuSec(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f s", v)
}

func millis(v float64) string { return fmt.Sprintf("%.0f ms", v*1000) }

func ratio(a, b float64) string {
	if a == 0 || b == 0 || math.IsNaN(a/b) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func mib(v int64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MiB", float64(v)/(1<<20))
}

// write stores latest.md and latest.json in dir.
func (r report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	md := "# Benchmark results\n\n" + r.markdown() +
		"\nThe Firestore emulator is not Firestore: absolute numbers say little about production; " +
		"the ratios to the floor and the baseline, measured in the same run, are the point.\n"
	if err := os.WriteFile(filepath.Join(dir, "latest.md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("writing latest.md: %w", err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing latest.json: %w", err)
	}
	return nil
}

func cpus() int { return runtime.NumCPU() }
