package main

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// run is the outcome of one repetition of a scenario under one model.
// Durations are seconds; zero means "not measured".
type run struct {
	Watcher    float64 `json:"watcher_s,omitempty"`
	WriteFloor float64 `json:"write_floor_s,omitempty"`
	PlanFloor  float64 `json:"plan_floor_s,omitempty"`
	Baseline   float64 `json:"baseline_s,omitempty"`
	// BaselineEstimated: the baseline ran out of its time budget; Baseline
	// and its cost are extrapolated from its write rate until then.
	BaselineEstimated bool    `json:"baseline_estimated,omitempty"`
	P50               float64 `json:"lag_p50_s,omitempty"`
	P95               float64 `json:"lag_p95_s,omitempty"`
	P99               float64 `json:"lag_p99_s,omitempty"`
	// ApplyP50 and ApplyP99 are the watcher's own time per event (Firestore
	// work, without the queue): against the lag they tell where it waits.
	ApplyP50 float64 `json:"apply_p50_s,omitempty"`
	ApplyP99 float64 `json:"apply_p99_s,omitempty"`
	PeakRSS  int64   `json:"peak_rss_bytes,omitempty"`
	Events   int     `json:"events,omitempty"`
	Docs     int     `json:"documents,omitempty"`
	// CPUSeconds is the watcher process's CPU time during the measurement.
	CPUSeconds float64 `json:"watcher_cpu_s,omitempty"`
	// EmulatorCPU is the emulator's CPU seconds during each variant: the
	// work each asks of the backend.
	EmulatorCPU map[variant]float64 `json:"emulator_cpu_s,omitempty"`
	// Cost is each variant's RPCs and billed reads and writes.
	Cost map[variant]cost `json:"cost,omitempty"`
	// Giant is S6's giant cleanup: seconds from its MongoDB delete until
	// the watcher reported it applied (an upper bound, by polling).
	Giant float64 `json:"giant_cleanup_s,omitempty"`
}

// bench runs scenarios in one environment.
type bench struct {
	env *env
	log zerolog.Logger
	cfg settings
	// profiles holds the tops of the watcher's profiles, by name
	// (e.g. "S1 rtt20ms cpu"; see profile.go).
	profiles   map[string]string
	profilesMu sync.Mutex
}

// settings are the command-line knobs.
type settings struct {
	repeats        int
	s4Assets       int
	s4Repeats      int
	s3Duration     time.Duration
	s3Rate         int
	s3WarmUp       time.Duration
	s5Duration     time.Duration
	s6             headOfLineSettings
	baselineBudget time.Duration    // 0: baselines run to the end
	variants       map[variant]bool // what S1, S2 and S4 measure
	watcherEnv     []string         // extra environment of the watcher (WATCHER_* overrides)
	profileDir     string           // where profiles go (empty: none taken)
	profileModel   string           // the model whose S1 and S4 are profiled
	probe          bool             // measure single calls after the scenarios (probe.go)
}
