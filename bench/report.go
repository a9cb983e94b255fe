package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"
)

// result is one (scenario, model) pair: the medians of its repetitions.
// The keys are read by tools; absent means "does not apply".
type result struct {
	Scenario          string  `json:"scenario"`
	Model             string  `json:"model"`
	Description       string  `json:"description"`
	Watcher           float64 `json:"watcher_s,omitempty"`
	WriteFloor        float64 `json:"write_floor_s,omitempty"`
	PlanFloor         float64 `json:"plan_floor_s,omitempty"`
	Baseline          float64 `json:"baseline_s,omitempty"`
	BaselineEstimated bool    `json:"baseline_estimated,omitempty"`
	P50               float64 `json:"p50_ms,omitempty"`
	P95               float64 `json:"p95_ms,omitempty"`
	P99               float64 `json:"p99_ms,omitempty"`
	ApplyP50          float64 `json:"apply_p50_ms,omitempty"`
	ApplyP99          float64 `json:"apply_p99_ms,omitempty"`
	PeakRSS           float64 `json:"peak_rss_mib,omitempty"`
	WatcherCPU        float64 `json:"watcher_cpu_s,omitempty"`
	GiantCleanup      float64 `json:"giant_cleanup_s,omitempty"`
	Events            int     `json:"events,omitempty"`
	Documents         int     `json:"documents,omitempty"`
	// Per variant (watcher, write_floor, plan_floor, baseline).
	RPCs         map[variant]int            `json:"rpcs,omitempty"`
	FailedRPCs   map[variant]int            `json:"failed_rpcs,omitempty"`
	BilledReads  map[variant]int            `json:"billed_reads,omitempty"`
	BilledWrites map[variant]int            `json:"billed_writes,omitempty"`
	RPCsByMethod map[variant]map[string]int `json:"rpcs_by_method,omitempty"`
	EmulatorCPU  map[variant]float64        `json:"emulator_cpu_s,omitempty"`
	Runs         []run                      `json:"runs"`
}

// report is everything one benchmark run measured.
type report struct {
	Started         time.Time `json:"started"`
	DurationSeconds float64   `json:"duration_s"`
	Command         string    `json:"command"`
	CPUs            int       `json:"cpus"`
	Machine         string    `json:"machine"`
	Emulator        string    `json:"firestore_emulator_version"`
	Mongo           string    `json:"mongo"`
	Repeats         int       `json:"repeats"`
	OneWayDelayMs   float64   `json:"one_way_delay_ms,omitempty"`
	Results         []result  `json:"results"`
	// Profiles: the top of each profile of the watcher ("S1 rtt20ms cpu");
	// the files are in profiles/.
	Profiles map[string]string `json:"watcher_profile_tops,omitempty"`
	// Probe: what single calls cost the backend as a collection grows.
	Probe []probeResult `json:"backend_probe,omitempty"`
}

// summarize takes the medians of a (scenario, model) pair's runs.
func summarize(scenario, m, desc string, runs []run) result {
	pick := func(f func(run) float64) float64 { return median(runs, f) }
	r := result{Scenario: scenario, Model: m, Description: desc, Runs: runs,
		Watcher:      pick(func(r run) float64 { return r.Watcher }),
		WriteFloor:   pick(func(r run) float64 { return r.WriteFloor }),
		PlanFloor:    pick(func(r run) float64 { return r.PlanFloor }),
		Baseline:     pick(func(r run) float64 { return r.Baseline }),
		P50:          1000 * pick(func(r run) float64 { return r.P50 }),
		P95:          1000 * pick(func(r run) float64 { return r.P95 }),
		P99:          1000 * pick(func(r run) float64 { return r.P99 }),
		ApplyP50:     1000 * pick(func(r run) float64 { return r.ApplyP50 }),
		ApplyP99:     1000 * pick(func(r run) float64 { return r.ApplyP99 }),
		PeakRSS:      pick(func(r run) float64 { return float64(r.PeakRSS) }) / (1 << 20),
		WatcherCPU:   pick(func(r run) float64 { return r.CPUSeconds }),
		GiantCleanup: pick(func(r run) float64 { return r.Giant }),
	}
	for _, rn := range runs {
		r.BaselineEstimated = r.BaselineEstimated || rn.BaselineEstimated
	}
	if len(runs) > 0 {
		r.Documents, r.Events = runs[0].Docs, runs[0].Events
	}
	for _, v := range allVariants {
		if !anyCost(runs, v) {
			continue
		}
		r.addCost(v, runs)
	}
	return r
}

func anyCost(runs []run, v variant) bool {
	for _, rn := range runs {
		if _, ok := rn.Cost[v]; ok {
			return true
		}
	}
	return false
}

// addCost sets the medians of variant v's cost and emulator CPU.
func (r *result) addCost(v variant, runs []run) {
	if r.RPCs == nil {
		r.RPCs, r.BilledReads, r.BilledWrites = map[variant]int{}, map[variant]int{}, map[variant]int{}
		r.FailedRPCs = map[variant]int{}
		r.RPCsByMethod, r.EmulatorCPU = map[variant]map[string]int{}, map[variant]float64{}
	}
	med := func(f func(cost) int) int {
		return int(median(runs, func(rn run) float64 { return float64(f(rn.Cost[v])) }))
	}
	r.RPCs[v] = med(func(c cost) int { return c.RPCs })
	r.BilledReads[v] = med(func(c cost) int { return c.Reads })
	if failed := med(func(c cost) int { return c.Failed }); failed > 0 {
		r.FailedRPCs[v] = failed
	}
	r.BilledWrites[v] = med(func(c cost) int { return c.Writes })
	methods := map[string]int{}
	for _, rn := range runs {
		for m := range rn.Cost[v].ByMethod {
			methods[m] = med(func(c cost) int { return c.ByMethod[m] })
		}
	}
	r.RPCsByMethod[v] = methods
	if cpu := median(runs, func(rn run) float64 { return rn.EmulatorCPU[v] }); cpu != 0 {
		r.EmulatorCPU[v] = cpu
	}
}

// write stores latest.md and latest.json in dir.
func (r report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	md := "# Benchmark results\n\n" + r.markdown() +
		"\nThe Firestore emulator is not Firestore: absolute numbers say little about production; " +
		"the ratios to the floors and the baseline, measured in the same run, and the RPC counts are the point.\n"
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

// methodsOf lists the RPC methods any variant of any result used, sorted.
func (r report) methodsOf(scenarios map[string]bool) []string {
	seen := map[string]bool{}
	for _, res := range r.Results {
		if !scenarios[res.Scenario] {
			continue
		}
		for _, ms := range res.RPCsByMethod {
			for m := range ms {
				seen[m] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func cpus() int { return runtime.NumCPU() }
