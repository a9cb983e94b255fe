package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/fsmeter"
)

// measured is one variant's measurement.
type measured struct {
	took      time.Duration
	rss       int64
	docs      int
	cpu       float64 // the watcher's CPU seconds
	emuCPU    float64 // the emulator's CPU seconds
	estimated bool
	cost      cost
}

// burstVariant seeds a fresh Firestore project (directly), measures one
// variant on it under model m, and checks that every document is done.
func (b *bench) burstVariant(ctx context.Context, sc burst, m model, v variant, rep int) (measured, error) {
	var got measured
	fsProject, mongoDB := b.env.names(sc.name, m, v, rep)
	tally := &fsmeter.Tally{}
	client, err := b.env.client(ctx, fsProject, m, tally)
	if err != nil {
		return got, err
	}
	defer func() { _ = client.Close() }()
	direct, err := b.env.firestore(ctx, fsProject)
	if err != nil {
		return got, err
	}
	defer func() {
		_ = direct.Close()
		b.env.dropProject(fsProject)
	}()
	d := newDataset(client, sc.shape)
	seedStart := time.Now()
	if err := d.seedFirestore(ctx, direct); err != nil {
		return got, err
	}
	b.log.Debug().Str("scenario", sc.name).Str("variant", string(v)).Int("documents", d.docs()).
		Int64("durationMs", time.Since(seedStart).Milliseconds()).Msg("seeded Firestore")

	emu0 := b.env.emulatorCPU()
	switch v {
	case vWatcher:
		got, err = b.measureWatcher(ctx, sc, m, d, fsProject, mongoDB, rep)
	case vWriteFloor, vPlanFloor:
		floor := sc.writeFloor
		if v == vPlanFloor {
			floor = sc.planFloor
		}
		start := time.Now()
		err = floor(ctx, client, d)
		got.took, got.cost = time.Since(start), costOf(tally.Counts())
	case vBaseline:
		got, err = b.measureBaseline(ctx, sc, client, tally, d)
	}
	if err != nil {
		return got, err
	}
	got.docs = d.docs()
	if v != vWatcher {
		got.emuCPU = b.env.emulatorCPU() - emu0
	}
	if got.estimated {
		return got, nil // the data is left half done
	}
	left, err := sc.left(ctx, direct, d)
	if err != nil {
		return got, err
	}
	if left != 0 {
		return got, fmt.Errorf("%d documents not done after the run", left)
	}
	return got, nil
}

// measureWatcher starts the watcher under model m, makes the burst's
// MongoDB changes and waits until it has applied them all.
func (b *bench) measureWatcher(ctx context.Context, sc burst, m model, d *dataset, fsProject, mongoDB string, rep int) (measured, error) {
	var got measured
	projects := b.env.mongo.Database(mongoDB).Collection("projects")
	if err := d.seedMongo(ctx, projects); err != nil {
		return got, err
	}
	defer func() { _ = b.env.mongo.Database(mongoDB).Drop(context.WithoutCancel(ctx)) }()
	dm, err := b.env.startDaemon(ctx, m, fsProject, mongoDB, sc.maxDocs, append(append([]string{}, sc.env...), b.cfg.watcherEnv...)...)
	if err != nil {
		return got, err
	}
	defer dm.killIfRunning()
	before, err := dm.metrics()
	if err != nil {
		return got, err
	}
	cpu0, _ := dm.cpuSeconds()
	emu0 := b.env.emulatorCPU()
	profiled := b.profileIfWanted(ctx, dm, sc.name, m, rep)
	start := time.Now()
	if err := sc.mongoOp(ctx, projects, d); err != nil {
		return got, fmt.Errorf("mongodb changes: %w", err)
	}
	if err := dm.waitApplied(ctx, sc.kind, sc.events(d), 10*time.Minute); err != nil {
		return got, err
	}
	got.took = time.Since(start)
	got.emuCPU = b.env.emulatorCPU() - emu0
	cpu1, _ := dm.cpuSeconds()
	got.cpu = cpu1 - cpu0
	after, err := dm.metrics()
	if err != nil {
		return got, err
	}
	got.cost = watcherCost(after).minus(watcherCost(before))
	if err := profiled(); err != nil {
		return got, err
	}
	got.rss, err = dm.peakRSS()
	return got, errors.Join(err, dm.stop())
}

// measureBaseline runs the baseline within its time budget; one that runs
// out is extrapolated from its write rate, its cost too.
func (b *bench) measureBaseline(ctx context.Context, sc burst, client *firestore.Client, tally *fsmeter.Tally, d *dataset) (measured, error) {
	var got measured
	bud := &budget{}
	if b.cfg.baselineBudget > 0 {
		bud.deadline = time.Now().Add(b.cfg.baselineBudget)
	}
	start := time.Now()
	err := sc.baseline(ctx, client, d, bud)
	got.took, got.cost = time.Since(start), costOf(tally.Counts())
	predicted := sc.baselineCost(d)
	if errors.Is(err, errBudget) && bud.writes > 0 {
		got.took = time.Duration(float64(got.took) * float64(sc.writes(d)) / float64(bud.writes))
		got.cost, got.estimated = predicted, true
		return got, nil
	}
	if err == nil && (got.cost.RPCs != predicted.RPCs || got.cost.Reads != predicted.Reads || got.cost.Writes != predicted.Writes) {
		b.log.Warn().Str("scenario", sc.name).Interface("measured", got.cost).Interface("predicted", predicted).
			Msg("the baseline's cost differs from its algorithm's (baselineCost)")
	}
	return got, err
}
