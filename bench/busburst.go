package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// busBurst is S1 through the event bus with n worker processes: the same
// data and MongoDB changes as S1's watcher variant; the time runs from the
// MongoDB delete until the workers have applied every event (the leader's
// publishing alone is logged too).
func (b *bench) busBurst(ctx context.Context, sc burst, m model, n, rep int) (run, error) {
	r := run{EmulatorCPU: map[variant]float64{}, Cost: map[variant]cost{}}
	fsProject, mongoDB := b.env.names(fmt.Sprintf("%sb%d", sc.name, n), m, vWatcher, rep)
	direct, err := b.env.firestore(ctx, fsProject)
	if err != nil {
		return r, err
	}
	defer func() {
		_ = direct.Close()
		b.env.dropProject(fsProject)
	}()
	d := newDataset(direct, sc.shape)
	if err := d.seedFirestore(ctx, direct); err != nil {
		return r, err
	}
	projects := b.env.mongo.Database(mongoDB).Collection("projects")
	if err := d.seedMongo(ctx, projects); err != nil {
		return r, err
	}
	defer func() { _ = b.env.mongo.Database(mongoDB).Drop(context.WithoutCancel(ctx)) }()
	g, err := b.env.startBus(ctx, m, fsProject, mongoDB, sc.maxDocs, n, append(append([]string{}, sc.env...), b.cfg.watcherEnv...)...)
	if err != nil {
		return r, err
	}
	defer g.killIfRunning()
	before, err := g.workerMetrics()
	if err != nil {
		return r, err
	}
	leaderCPU0, workersCPU0 := g.cpuSeconds()
	emu0 := b.env.emulatorCPU()
	start := time.Now()
	if err := sc.mongoOp(ctx, projects, d); err != nil {
		return r, fmt.Errorf("mongodb changes: %w", err)
	}
	events := sc.events(d)
	published := make(chan time.Duration, 1)
	go func() {
		if g.waitPublished(ctx, sc.kind, events, 10*time.Minute) == nil {
			published <- time.Since(start)
		}
		close(published)
	}()
	if err := g.waitApplied(ctx, sc.kind, events, 10*time.Minute); err != nil {
		return r, err
	}
	r.Watcher, r.Docs, r.Events = time.Since(start).Seconds(), d.docs(), events
	r.EmulatorCPU[vWatcher] = b.env.emulatorCPU() - emu0
	leaderCPU1, workersCPU1 := g.cpuSeconds()
	r.CPUSeconds = workersCPU1 - workersCPU0
	after, err := g.workerMetrics()
	if err != nil {
		return r, err
	}
	r.Cost[vWatcher] = watcherCost(after).minus(watcherCost(before))
	if r.PeakRSS, err = g.peakRSS(); err != nil {
		return r, err
	}
	pub := <-published
	b.log.Info().Str("scenario", sc.name).Int("workers", n).Int("rep", rep).Float64("seconds", r.Watcher).
		Float64("publishedSeconds", pub.Seconds()).Float64("leaderCpuS", leaderCPU1-leaderCPU0).
		Float64("workersCpuS", r.CPUSeconds).Float64("firestoreEmulatorCpuS", r.EmulatorCPU[vWatcher]).
		Int("rpcs", r.Cost[vWatcher].RPCs).Float64("redeliveries", after.value("watcher_bus_redeliveries_total")-before.value("watcher_bus_redeliveries_total")).
		Msg("measured through the bus")
	left, err := sc.left(ctx, direct, d)
	if err == nil && left != 0 {
		err = fmt.Errorf("%d documents not done after the run", left)
	}
	return r, errors.Join(err, g.stop())
}
