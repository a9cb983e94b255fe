package main

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"math"
)

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
	m := b.env.direct()
	fsProject, mongoDB := b.env.names("S5", m, vWatcher, rep)
	defer b.env.dropProject(fsProject)
	projects := b.env.mongo.Database(mongoDB).Collection("projects")
	if _, err := projects.InsertOne(ctx, bson.D{{Key: "name", Value: "idle"}}); err != nil {
		return run{}, err
	}
	defer func() { _ = b.env.mongo.Database(mongoDB).Drop(context.WithoutCancel(ctx)) }()
	dm, err := b.env.startDaemon(ctx, m, fsProject, mongoDB, defaultMaxDocs, b.cfg.watcherEnv...)
	if err != nil {
		return run{}, err
	}
	defer dm.killIfRunning()
	before, err := dm.cpuSeconds()
	if err != nil {
		return run{}, err
	}
	select {
	case <-time.After(b.cfg.s5Duration):
	case <-ctx.Done():
		return run{}, ctx.Err()
	}
	after, err := dm.cpuSeconds()
	if err != nil {
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
