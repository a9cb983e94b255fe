package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Event kinds as the watcher's metrics label them.
const (
	kindDeleted = "ProjectDeleted"
	kindUpdated = "ProjectUpdated"
)

// run is the outcome of one repetition of a scenario. Durations are seconds;
// zero means "not measured".
type run struct {
	Watcher    float64 `json:"watcherSeconds,omitempty"`
	Floor      float64 `json:"floorSeconds,omitempty"`
	Baseline   float64 `json:"baselineSeconds,omitempty"`
	PeakRSS    int64   `json:"peakRssBytes,omitempty"`
	P50        float64 `json:"p50Seconds,omitempty"`
	P95        float64 `json:"p95Seconds,omitempty"`
	P99        float64 `json:"p99Seconds,omitempty"`
	Events     int     `json:"events,omitempty"`
	CPUSeconds float64 `json:"cpuSeconds,omitempty"`
	Docs       int     `json:"documents,omitempty"`
	// BaselineEstimated: the baseline ran out of its time budget; Baseline
	// is extrapolated from its write rate until then.
	BaselineEstimated bool `json:"baselineEstimated,omitempty"`
	// CPU seconds the emulator spent on each variant (the work each asks of
	// the backend) and the watcher's own CPU seconds.
	EmulatorCPUWatcher  float64 `json:"emulatorCpuSecondsWatcher,omitempty"`
	EmulatorCPUFloor    float64 `json:"emulatorCpuSecondsFloor,omitempty"`
	EmulatorCPUBaseline float64 `json:"emulatorCpuSecondsBaseline,omitempty"`
}

// bench runs scenarios in one environment.
type bench struct {
	env *env
	log zerolog.Logger
	cfg settings
	// profiles holds, per scenario, the top of a CPU profile of its first
	// watcher run (see cpuProfile).
	profiles map[string]string
}

// settings are the command-line knobs.
type settings struct {
	repeats        int
	s4Assets       int
	s3Duration     time.Duration
	s3Rate         int
	s5Duration     time.Duration
	s4Repeats      int
	baselineBudget time.Duration   // 0: baselines run to the end
	variants       map[string]bool // watcher, floor, baseline
	watcherEnv     []string        // extra environment of the watcher (WATCHER_* overrides)
	profileDir     string          // where CPU profiles go (empty: none taken)
	probe          bool            // measure single calls first (probe.go)
}

// burst is a scenario of S1/S2/S4's kind: seed, one burst of MongoDB
// changes, time until Firestore agrees; the same data for floor and baseline.
type burst struct {
	name     string
	shape    shape
	kind     string
	maxDocs  int      // safety.maxDocsPerEvent
	env      []string // extra watcher environment
	events   func(*dataset) int
	mongoOp  func(context.Context, *mongo.Collection, *dataset) error
	floor    func(context.Context, *firestore.Client, *dataset) error
	baseline func(context.Context, *firestore.Client, *dataset, *budget) error
	writes   func(*dataset) int // writes the floor and the baseline make
	left     func(context.Context, *firestore.Client, *dataset) (int, error)
}

// defaultMaxDocs is safety.maxDocsPerEvent's default.
const defaultMaxDocs = 10000

func renamed(p project) string { return p.name + " (renamed)" }

func deleteBurst(name string, s shape) burst {
	return burst{
		name: name, shape: s, kind: kindDeleted, maxDocs: defaultMaxDocs,
		events: func(d *dataset) int { return len(d.projects) },
		mongoOp: func(ctx context.Context, c *mongo.Collection, _ *dataset) error {
			_, err := c.DeleteMany(ctx, bson.D{})
			return err
		},
		floor:    floorDelete,
		baseline: baselineDelete,
		writes:   (*dataset).docs,
		left: func(ctx context.Context, c *firestore.Client, d *dataset) (int, error) {
			return d.remaining(ctx, c, nil)
		},
	}
}

func renameBurst(name string, s shape) burst {
	return burst{
		name: name, shape: s, kind: kindUpdated, maxDocs: defaultMaxDocs,
		events: func(d *dataset) int { return len(d.projects) },
		mongoOp: func(ctx context.Context, c *mongo.Collection, d *dataset) error {
			models := make([]mongo.WriteModel, 0, len(d.projects))
			for _, p := range d.projects {
				models = append(models, mongo.NewUpdateOneModel().
					SetFilter(bson.D{{Key: "_id", Value: p.id}}).
					SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: renamed(p)}}}}))
			}
			_, err := c.BulkWrite(ctx, models)
			return err
		},
		floor: func(ctx context.Context, c *firestore.Client, d *dataset) error {
			return floorRename(ctx, c, d, renamed)
		},
		baseline: func(ctx context.Context, c *firestore.Client, d *dataset, b *budget) error {
			return baselineRename(ctx, c, d, renamed, b)
		},
		writes: (*dataset).assetCount,
		left: func(ctx context.Context, c *firestore.Client, d *dataset) (int, error) {
			return d.remaining(ctx, c, renamed)
		},
	}
}

// runBurst measures the watcher, the floor and the baseline on fresh copies
// of the same data.
func (b *bench) runBurst(ctx context.Context, sc burst, rep int) (run, error) {
	var r run
	for _, variant := range []string{"watcher", "floor", "baseline"} {
		if !b.cfg.variants[variant] {
			continue
		}
		v, err := b.burstVariant(ctx, sc, variant, rep)
		if err != nil {
			return r, fmt.Errorf("%s %s: %w", sc.name, variant, err)
		}
		took, rss, docs := v.took, v.rss, v.docs
		r.Docs = docs
		switch variant {
		case "watcher":
			r.Watcher, r.PeakRSS, r.CPUSeconds, r.EmulatorCPUWatcher = took.Seconds(), rss, v.cpu, v.emuCPU
		case "floor":
			r.Floor, r.EmulatorCPUFloor = took.Seconds(), v.emuCPU
		case "baseline":
			r.Baseline, r.BaselineEstimated, r.EmulatorCPUBaseline = took.Seconds(), v.estimated, v.emuCPU
		}
		b.log.Info().Str("scenario", sc.name).Str("variant", variant).Int("rep", rep).
			Int("documents", docs).Float64("seconds", took.Seconds()).Int64("peakRssBytes", rss).Msg("measured")
	}
	return r, nil
}

// measured is one variant's measurement.
type measured struct {
	took      time.Duration
	rss       int64
	docs      int
	cpu       float64 // the watcher's CPU seconds
	emuCPU    float64 // the emulator's CPU seconds
	estimated bool
}

func (b *bench) burstVariant(ctx context.Context, sc burst, variant string, rep int) (measured, error) {
	var m measured
	fsProject, mongoDB := b.env.names(sc.name, variant, rep)
	client, err := b.env.firestore(ctx, fsProject)
	if err != nil {
		return m, err
	}
	defer func() {
		_ = client.Close()
		b.env.dropProject(fsProject)
	}()
	d := newDataset(client, sc.shape)
	m.docs = d.docs()
	seedStart := time.Now()
	if err := d.seedFirestore(ctx, client); err != nil {
		return m, err
	}
	b.log.Debug().Str("scenario", sc.name).Str("variant", variant).Int("documents", m.docs).
		Dur("took", time.Since(seedStart)).Msg("seeded Firestore")

	emu0 := b.env.emulatorCPU()
	switch variant {
	case "watcher":
		projects := b.env.mongo.Database(mongoDB).Collection("projects")
		if err := d.seedMongo(ctx, projects); err != nil {
			return m, err
		}
		defer func() { _ = b.env.mongo.Database(mongoDB).Drop(context.WithoutCancel(ctx)) }()
		dm, err := b.env.startDaemon(ctx, fsProject, mongoDB, sc.maxDocs, append(append([]string{}, sc.env...), b.cfg.watcherEnv...)...)
		if err != nil {
			return m, err
		}
		cpu0, _ := dm.cpuSeconds()
		emu0 = b.env.emulatorCPU()
		var profiled func() (string, error)
		if rep == 1 && b.cfg.profileDir != "" {
			profiled = dm.cpuProfile(ctx, b.env.binary, filepath.Join(b.cfg.profileDir, sc.name+"-watcher.cpu.pprof"), profileSeconds)
		}
		start := time.Now()
		if err := sc.mongoOp(ctx, projects, d); err != nil {
			dm.kill()
			return m, fmt.Errorf("mongodb changes: %w", err)
		}
		if err := dm.waitApplied(ctx, sc.kind, sc.events(d), 10*time.Minute); err != nil {
			dm.kill()
			return m, err
		}
		m.took = time.Since(start)
		if profiled != nil {
			top, err := profiled()
			if err != nil {
				dm.kill()
				return m, err
			}
			b.profiles[sc.name] = top
		}
		cpu1, _ := dm.cpuSeconds()
		m.cpu = cpu1 - cpu0
		m.rss, err = dm.peakRSS()
		if err := errors.Join(err, dm.stop()); err != nil {
			return m, err
		}
	case "floor":
		start := time.Now()
		if err := sc.floor(ctx, client, d); err != nil {
			return m, err
		}
		m.took = time.Since(start)
	case "baseline":
		bud := &budget{}
		if b.cfg.baselineBudget > 0 {
			bud.deadline = time.Now().Add(b.cfg.baselineBudget)
		}
		start := time.Now()
		err := sc.baseline(ctx, client, d, bud)
		m.took = time.Since(start)
		if errors.Is(err, errBudget) && bud.writes > 0 {
			// Extrapolate from the rate so far; the data is left half done.
			m.took = time.Duration(float64(m.took) * float64(sc.writes(d)) / float64(bud.writes))
			m.estimated = true
			m.emuCPU = b.env.emulatorCPU() - emu0
			return m, nil
		}
		if err != nil {
			return m, err
		}
	}
	m.emuCPU = b.env.emulatorCPU() - emu0
	left, err := sc.left(ctx, client, d)
	if err != nil {
		return m, err
	}
	if left != 0 {
		return m, fmt.Errorf("%d documents not done after the run", left)
	}
	return m, nil
}
