package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// lagHistogram is the watcher's end-to-end lag histogram (apply time minus
// the event's MongoDB wall time).
const lagHistogram = "watcher_end_to_end_lag_seconds"

// applyHistogram is the watcher's time to apply one event to Firestore.
const applyHistogram = "watcher_apply_duration_seconds"

// s3WarmUp is how long the unmeasured S3 run before the measured ones lasts.
const s3WarmUp = 20 * time.Second

// latencyWarmUp runs S3's load once, shorter and unmeasured. The emulator
// serves a new kind of load slowly at first: on a freshly started emulator
// the first S3 run had p99 1.5 s and the next 230 ms, and on one that had
// served S3 before the first run had 83 ms.
func (b *bench) latencyWarmUp(ctx context.Context) error {
	warm := *b
	warm.cfg.s3Duration = s3WarmUp
	r, err := warm.latency(ctx, 0)
	if err != nil {
		return fmt.Errorf("S3 warm-up: %w", err)
	}
	b.log.Info().Str("scenario", "S3").Float64("p99", r.P99).Dur("duration", s3WarmUp).Msg("warm-up run (not counted)")
	return nil
}

// renameTargets is how many projects S3 renames, over and over.
const renameTargets = 50

// latency is S3: a steady rate of mixed deletes and renames of small
// projects; percentiles of the end-to-end lag from the watcher's metrics.
func (b *bench) latency(ctx context.Context, rep int) (run, error) {
	events := int(b.cfg.s3Duration.Seconds()) * b.cfg.s3Rate
	fsProject, mongoDB := b.env.names("S3", "watcher", rep)
	client, err := b.env.firestore(ctx, fsProject)
	if err != nil {
		return run{}, err
	}
	defer func() {
		_ = client.Close()
		b.env.dropProject(fsProject)
	}()
	// Deletes take distinct projects; renames cycle over renameTargets
	// more. As few projects as the load needs: the emulator scans a whole
	// collection for every query, so its cost grows with the data.
	deletes := (events + 1) / 2
	d := newDataset(client, shape{projects: deletes + renameTargets, assets: 3})
	if err := d.seedFirestore(ctx, client); err != nil {
		return run{}, err
	}
	projects := b.env.mongo.Database(mongoDB).Collection("projects")
	if err := d.seedMongo(ctx, projects); err != nil {
		return run{}, err
	}
	defer func() { _ = b.env.mongo.Database(mongoDB).Drop(context.WithoutCancel(ctx)) }()
	dm, err := b.env.startDaemon(ctx, fsProject, mongoDB, defaultMaxDocs, b.cfg.watcherEnv...)
	if err != nil {
		return run{}, err
	}
	defer func() {
		select {
		case <-dm.done:
		default:
			dm.kill()
		}
	}()

	// How busy the emulator and the watcher were during the load: at the
	// edge of the emulator's capacity its pauses become the tail.
	emu0 := b.env.emulatorCPU()
	cpu0, _ := dm.cpuSeconds()
	tick := time.NewTicker(time.Second / time.Duration(b.cfg.s3Rate))
	defer tick.Stop()
	renames := events - deletes
	for i := 0; i < events; i++ {
		<-tick.C
		var err error
		if i%2 == 0 {
			p := d.projects[i/2]
			_, err = projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: p.id}})
		} else {
			p := d.projects[deletes+(i/2)%renameTargets]
			_, err = projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.id}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: fmt.Sprintf("%s (rename %d)", p.name, i)}}}})
		}
		if err != nil {
			return run{}, fmt.Errorf("S3 change %d: %w", i, err)
		}
	}
	if err := errors.Join(
		dm.waitApplied(ctx, kindDeleted, deletes, 2*time.Minute),
		dm.waitApplied(ctx, kindUpdated, renames, 2*time.Minute),
	); err != nil {
		return run{}, err
	}
	s, err := dm.metrics()
	if err != nil {
		return run{}, err
	}
	r := run{
		Events: events,
		P50:    s.quantile(0.50, lagHistogram),
		P95:    s.quantile(0.95, lagHistogram),
		P99:    s.quantile(0.99, lagHistogram),
		Docs:   d.docs(),
	}
	r.EmulatorCPUWatcher = b.env.emulatorCPU() - emu0
	if cpu1, err := dm.cpuSeconds(); err == nil {
		r.CPUSeconds = cpu1 - cpu0
	}
	if math.IsNaN(r.P99) {
		return r, fmt.Errorf("the watcher exports no %s observations", lagHistogram)
	}
	r.PeakRSS, err = dm.peakRSS()
	if err := errors.Join(err, dm.stop()); err != nil {
		return r, err
	}
	// The apply time alone (Firestore work per event) against the lag
	// (which adds the stream and the queue) tells where a tail comes from.
	b.log.Info().Str("scenario", "S3").Int("rep", rep).Float64("p50", r.P50).Float64("p95", r.P95).
		Float64("p99", r.P99).Float64("applyP99", s.quantile(0.99, applyHistogram)).
		Float64("applyMax", s.quantile(1, applyHistogram)).Msg("measured")
	return r, nil
}

// idle is S5: watchers with nothing to do; CPU seconds each used over the
// idle period. The repetitions run side by side (they are idle), so S5 costs
// one idle period of wall time, not three.
func (b *bench) idle(ctx context.Context, reps int) ([]run, error) {
	runs := make([]run, reps)
	errs := make([]error, reps)
	var wg sync.WaitGroup
	for i := range reps {
		wg.Go(func() {
			runs[i], errs[i] = b.idleOne(ctx, i+1)
		})
	}
	wg.Wait()
	return runs, errors.Join(errs...)
}

func (b *bench) idleOne(ctx context.Context, rep int) (run, error) {
	fsProject, mongoDB := b.env.names("S5", "watcher", rep)
	defer b.env.dropProject(fsProject)
	projects := b.env.mongo.Database(mongoDB).Collection("projects")
	if _, err := projects.InsertOne(ctx, bson.D{{Key: "name", Value: "idle"}}); err != nil {
		return run{}, fmt.Errorf("S5 seed: %w", err)
	}
	defer func() { _ = b.env.mongo.Database(mongoDB).Drop(context.WithoutCancel(ctx)) }()
	dm, err := b.env.startDaemon(ctx, fsProject, mongoDB, defaultMaxDocs, b.cfg.watcherEnv...)
	if err != nil {
		return run{}, err
	}
	before, err := dm.cpuSeconds()
	if err != nil {
		dm.kill()
		return run{}, err
	}
	select {
	case <-time.After(b.cfg.s5Duration):
	case <-ctx.Done():
		dm.kill()
		return run{}, ctx.Err()
	}
	after, err := dm.cpuSeconds()
	if err != nil {
		dm.kill()
		return run{}, err
	}
	r := run{CPUSeconds: after - before}
	r.PeakRSS, err = dm.peakRSS()
	if err := errors.Join(err, dm.stop()); err != nil {
		return r, err
	}
	b.log.Info().Str("scenario", "S5").Int("rep", rep).Float64("cpuSeconds", r.CPUSeconds).Msg("measured")
	return r, nil
}

// median of the values picked from runs (zero values are skipped).
func median(runs []run, pick func(run) float64) float64 {
	var vs []float64
	for _, r := range runs {
		if v := pick(r); v != 0 && !math.IsNaN(v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0
	}
	sort.Float64s(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}
