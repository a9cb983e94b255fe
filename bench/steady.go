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

// lagHistogram is the watcher's end-to-end lag histogram (apply time minus
// the event's MongoDB wall time).
const lagHistogram = "watcher_end_to_end_lag_seconds"

// applyHistogram is the watcher's time to apply one event to Firestore.
const applyHistogram = "watcher_apply_duration_seconds"

// renameTargets is how many projects a steady load renames, over and over.
const renameTargets = 50

// load is a steady load of small events: at rate per second for
// duration, alternately a delete of a project of its own and a rename of
// one of renameTargets projects.
type load struct {
	name     string  // S3, S6, S6c
	rate     float64 // events per second
	duration time.Duration
	maxDocs  int      // safety.maxDocsPerEvent of the watcher
	env      []string // extra watcher environment
	// at, when set, runs once the load has run atTime (S6: delete the giant).
	at     func(ctx context.Context) error
	atTime time.Duration
}

func (l load) events() int  { return int(l.duration.Seconds() * l.rate) }
func (l load) deletes() int { return (l.events() + 1) / 2 }

// smallProjects is the data a load works on: a project per delete, and
// the rename targets, of 3 assets each. As few projects as the load needs:
// the emulator scans a whole collection for every query, so its cost grows
// with the data.
func (l load) smallProjects() shape {
	return shape{projects: l.deletes() + renameTargets, assets: 3}
}

// latencyWarmUp runs S3's load once, shorter and unmeasured. The emulator
// serves a new kind of load slowly at first: on a freshly started emulator
// the first S3 run had p99 1.5 s and the next 230 ms, and on one that had
// served S3 before the first run had 83 ms.
func (b *bench) latencyWarmUp(ctx context.Context, m model) error {
	if b.cfg.s3WarmUp <= 0 {
		return nil
	}
	r, err := b.latency(ctx, m, 0, b.cfg.s3WarmUp)
	if err != nil {
		return fmt.Errorf("S3 warm-up: %w", err)
	}
	b.log.Info().Str("scenario", "S3").Str("model", m.name).Float64("p99Ms", 1000*r.P99).Int64("warmUpMs", b.cfg.s3WarmUp.Milliseconds()).
		Msg("warm-up run (not counted)")
	return nil
}

// latency is S3: the steady load on its own data; percentiles of the
// end-to-end lag from the watcher's metrics.
func (b *bench) latency(ctx context.Context, m model, rep int, duration time.Duration) (run, error) {
	l := load{name: "S3", rate: float64(b.cfg.s3Rate), duration: duration, maxDocs: defaultMaxDocs}
	fsProject, mongoDB := b.env.names(l.name, m, vWatcher, rep)
	direct, err := b.env.firestore(ctx, fsProject)
	if err != nil {
		return run{}, err
	}
	defer func() {
		_ = direct.Close()
		b.env.dropProject(fsProject)
	}()
	d := newDataset(direct, l.smallProjects())
	if err := d.seedFirestore(ctx, direct); err != nil {
		return run{}, err
	}
	return b.measureLoad(ctx, m, l, fsProject, mongoDB, d, nil)
}

// measureLoad seeds MongoDB with d's projects (and giant's, when set),
// starts the watcher, runs the load and reads the percentiles of its lag.
// A giant deleted during the load (S6) is left out of the percentiles.
func (b *bench) measureLoad(ctx context.Context, m model, l load, fsProject, mongoDB string, d, giant *dataset) (run, error) {
	projects := b.env.mongo.Database(mongoDB).Collection("projects")
	defer func() { _ = b.env.mongo.Database(mongoDB).Drop(context.WithoutCancel(ctx)) }()
	for _, set := range []*dataset{d, giant} {
		if set == nil {
			continue
		}
		if err := set.seedMongo(ctx, projects); err != nil {
			return run{}, err
		}
	}
	dm, err := b.env.startDaemon(ctx, m, fsProject, mongoDB, l.maxDocs, append(append([]string{}, l.env...), b.cfg.watcherEnv...)...)
	if err != nil {
		return run{}, err
	}
	defer dm.killIfRunning()
	var giantLine <-chan string
	if giant != nil && l.at != nil {
		giantLine = dm.out.watch(giant.projects[0].id.Hex())
	}
	before, err := dm.metrics()
	if err != nil {
		return run{}, err
	}
	// How busy the emulator and the watcher were during the load: at the
	// edge of the emulator's capacity its pauses become the tail.
	emu0 := b.env.emulatorCPU()
	cpu0, _ := dm.cpuSeconds()
	if err := drive(ctx, projects, d, l); err != nil {
		return run{}, err
	}
	deletes := l.deletes()
	if giantLine != nil {
		deletes++
	}
	if err := errors.Join(
		dm.waitApplied(ctx, kindDeleted, deletes, 10*time.Minute),
		dm.waitApplied(ctx, kindUpdated, l.events()-l.deletes(), 2*time.Minute),
	); err != nil {
		return run{}, err
	}
	s, err := dm.metrics()
	if err != nil {
		return run{}, err
	}
	r := run{Events: l.events(), Docs: d.docs(), EmulatorCPU: map[variant]float64{vWatcher: b.env.emulatorCPU() - emu0},
		Cost: map[variant]cost{vWatcher: watcherCost(s).minus(watcherCost(before))}}
	if cpu1, err := dm.cpuSeconds(); err == nil {
		r.CPUSeconds = cpu1 - cpu0
	}
	if giantLine != nil {
		s = s.dropLargest(lagHistogram, "type", kindDeleted).dropLargest(applyHistogram, "type", kindDeleted)
		select {
		case line := <-giantLine:
			r.Giant = appliedSeconds(line)
		case <-time.After(10 * time.Second):
			b.log.Warn().Str("scenario", l.name).Msg("no log line of the giant project's cleanup")
		}
	}
	r.P50, r.P95, r.P99 = s.quantile(0.50, lagHistogram), s.quantile(0.95, lagHistogram), s.quantile(0.99, lagHistogram)
	r.ApplyP50, r.ApplyP99 = s.quantile(0.50, applyHistogram), s.quantile(0.99, applyHistogram)
	if math.IsNaN(r.P99) {
		return r, fmt.Errorf("the watcher exports no %s observations", lagHistogram)
	}
	r.PeakRSS, err = dm.peakRSS()
	if err := errors.Join(err, dm.stop()); err != nil {
		return r, err
	}
	// The apply time alone (Firestore work per event) against the lag
	// (which adds the stream and the queue) tells where a tail comes from.
	b.log.Info().Str("scenario", l.name).Str("model", m.name).Float64("p50Ms", 1000*r.P50).Float64("p95Ms", 1000*r.P95).
		Float64("p99Ms", 1000*r.P99).Float64("applyP99Ms", 1000*r.ApplyP99).
		Float64("giantSeconds", r.Giant).Int("rpcs", r.Cost[vWatcher].RPCs).Msg("measured")
	return r, nil
}

// drive makes the load's MongoDB changes at its rate: even changes delete
// the next project of d, odd ones rename one of the last renameTargets.
func drive(ctx context.Context, projects *mongo.Collection, d *dataset, l load) error {
	tick := time.NewTicker(time.Duration(float64(time.Second) / l.rate))
	defer tick.Stop()
	deletes := l.deletes()
	start := time.Now()
	atDone := make(chan error, 1)
	fired := l.at == nil
	for i := 0; i < l.events(); i++ {
		<-tick.C
		if !fired && time.Since(start) >= l.atTime {
			fired = true
			go func() { atDone <- l.at(ctx) }()
		}
		var err error
		if i%2 == 0 {
			_, err = projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.projects[i/2].id}})
		} else {
			p := d.projects[deletes+(i/2)%renameTargets]
			_, err = projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.id}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: fmt.Sprintf("%s (rename %d)", p.name, i)}}}})
		}
		if err != nil {
			return fmt.Errorf("%s change %d: %w", l.name, i, err)
		}
	}
	if l.at == nil {
		return nil
	}
	if !fired {
		return fmt.Errorf("%s: the load ended before %s", l.name, l.atTime)
	}
	return <-atDone
}
