package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The workers' lag and apply histograms (watcher_bus_*).
const (
	busLagHistogram   = "watcher_bus_worker_lag_seconds"
	busApplyHistogram = "watcher_bus_apply_duration_seconds"
)

// busHeadOfLine is S6 through the event bus with n worker processes: the
// same giant project, steady load and delete of the giant as S6, the lag
// percentiles from the workers' histograms (the giant's own event left
// out), the giant's cleanup from the log of the worker that applied it.
func (b *bench) busHeadOfLine(ctx context.Context, m model, n, rep int) (run, error) {
	cfg := b.cfg.s6
	fsProject, mongoDB := b.env.names(fmt.Sprintf("S6b%d", n), m, vWatcher, rep)
	direct, err := b.env.firestore(ctx, fsProject)
	if err != nil {
		return run{}, err
	}
	defer func() {
		_ = direct.Close()
		b.env.dropProject(fsProject)
	}()
	l := load{name: "S6", rate: cfg.rate, duration: cfg.duration, maxDocs: 0, env: []string{giantCollections}, atTime: cfg.deleteAt}
	giantSet := newDataset(direct, shape{projects: 1, assets: cfg.assets})
	d := newDataset(direct, l.smallProjects())
	for _, set := range []*dataset{giantSet, d} {
		if err := set.seedFirestore(ctx, direct); err != nil {
			return run{}, err
		}
	}
	projects := b.env.mongo.Database(mongoDB).Collection("projects")
	defer func() { _ = b.env.mongo.Database(mongoDB).Drop(context.WithoutCancel(ctx)) }()
	for _, set := range []*dataset{d, giantSet} {
		if err := set.seedMongo(ctx, projects); err != nil {
			return run{}, err
		}
	}
	l.at = func(ctx context.Context) error {
		_, err := projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: giantSet.projects[0].id}})
		return err
	}
	g, err := b.env.startBus(ctx, m, fsProject, mongoDB, l.maxDocs, n, append(append([]string{}, l.env...), b.cfg.watcherEnv...)...)
	if err != nil {
		return run{}, err
	}
	defer g.killIfRunning()
	r, err := b.busMeasureLoad(ctx, g, l, projects, d, giantSet.projects[0].id.Hex())
	if err != nil {
		return r, err
	}
	left, err := giantSet.remaining(ctx, direct, nil)
	if err == nil && left != 0 {
		err = fmt.Errorf("S6 through the bus: %d documents of the giant project left after its cleanup", left)
	}
	return r, errors.Join(err, g.stop())
}

// busMeasureLoad drives l against the group's leader and reads the
// workers' percentiles.
func (b *bench) busMeasureLoad(ctx context.Context, g *busGroup, l load, projects *mongo.Collection, d *dataset, giantID string) (run, error) {
	var giantLines []<-chan string
	for _, w := range g.workers {
		giantLines = append(giantLines, w.out.watch(giantID))
	}
	before, err := g.workerMetrics()
	if err != nil {
		return run{}, err
	}
	emu0 := b.env.emulatorCPU()
	_, cpu0 := g.cpuSeconds()
	if err := drive(ctx, projects, d, l); err != nil {
		return run{}, err
	}
	if err := errors.Join(
		g.waitApplied(ctx, kindDeleted, l.deletes()+1, 10*time.Minute),
		g.waitApplied(ctx, kindUpdated, l.events()-l.deletes(), 2*time.Minute),
	); err != nil {
		return run{}, err
	}
	s, err := g.workerMetrics()
	if err != nil {
		return run{}, err
	}
	r := run{Events: l.events(), Docs: d.docs(), EmulatorCPU: map[variant]float64{vWatcher: b.env.emulatorCPU() - emu0},
		Cost: map[variant]cost{vWatcher: watcherCost(s).minus(watcherCost(before))}}
	_, cpu1 := g.cpuSeconds()
	r.CPUSeconds = cpu1 - cpu0
	s = s.dropLargest(busLagHistogram, "type", kindDeleted).dropLargest(busApplyHistogram, "type", kindDeleted)
	r.Giant = firstLine(giantLines, 10*time.Second)
	r.P50, r.P95, r.P99 = s.quantile(0.50, busLagHistogram), s.quantile(0.95, busLagHistogram), s.quantile(0.99, busLagHistogram)
	r.ApplyP50, r.ApplyP99 = s.quantile(0.50, busApplyHistogram), s.quantile(0.99, busApplyHistogram)
	if math.IsNaN(r.P99) {
		return r, fmt.Errorf("the workers export no %s observations", busLagHistogram)
	}
	r.PeakRSS, err = g.peakRSS()
	b.log.Info().Str("scenario", "S6").Int("workers", len(g.workers)).Float64("p50Ms", 1000*r.P50).Float64("p99Ms", 1000*r.P99).
		Float64("applyP99Ms", 1000*r.ApplyP99).Float64("giantSeconds", r.Giant).Int("rpcs", r.Cost[vWatcher].RPCs).
		Float64("redeliveries", s.value("watcher_bus_redeliveries_total")-before.value("watcher_bus_redeliveries_total")).Msg("measured through the bus")
	return r, err
}

// firstLine is the apply time of the first line any channel delivers
// within timeout (0: none).
func firstLine(chans []<-chan string, timeout time.Duration) float64 {
	deadline := time.After(timeout)
	for {
		for _, c := range chans {
			select {
			case line := <-c:
				return appliedSeconds(line)
			default:
			}
		}
		select {
		case <-deadline:
			return 0
		case <-time.After(50 * time.Millisecond):
		}
	}
}
