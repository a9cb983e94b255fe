package main

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// headOfLineSettings are S6's knobs.
type headOfLineSettings struct {
	assets   int           // the giant project's assets
	rate     float64       // the small events' rate, per second
	duration time.Duration // the load's length
	deleteAt time.Duration // when the giant is deleted, into the load
}

// headOfLine is S6 and its control S6c under model m. One Firestore
// project holds a giant project and the small projects of two loads. S6c
// runs the first load with the giant left alone; S6 the second, and
// deletes the giant deleteAt into it. Both run against the same
// collections holding the same giant documents (the emulator's scans grow
// with the collection, so S3 is not the comparison). The giant's own event
// is left out of S6's percentiles.
func (b *bench) headOfLine(ctx context.Context, m model, rep int) (control, s6 run, err error) {
	cfg := b.cfg.s6
	fsProject, _ := b.env.names("S6", m, vWatcher, rep)
	direct, err := b.env.firestore(ctx, fsProject)
	if err != nil {
		return control, s6, err
	}
	defer func() {
		_ = direct.Close()
		b.env.dropProject(fsProject)
	}()
	l := load{name: "S6c", rate: cfg.rate, duration: cfg.duration, maxDocs: 0, env: []string{giantCollections}}
	giantSet := newDataset(direct, shape{projects: 1, assets: cfg.assets})
	first, second := newDataset(direct, l.smallProjects()), newDataset(direct, l.smallProjects())
	seedStart := time.Now()
	for _, d := range []*dataset{giantSet, first, second} {
		if err := d.seedFirestore(ctx, direct); err != nil {
			return control, s6, err
		}
	}
	b.log.Info().Str("scenario", "S6").Str("model", m.name).Int("documents", giantSet.docs()+first.docs()+second.docs()).
		Int64("durationMs", time.Since(seedStart).Milliseconds()).Msg("seeded Firestore")

	_, mongoControl := b.env.names("S6c", m, vWatcher, rep)
	if control, err = b.measureLoad(ctx, m, l, fsProject, mongoControl, first, giantSet); err != nil {
		return control, s6, fmt.Errorf("S6c: %w", err)
	}
	_, mongoS6 := b.env.names("S6", m, vWatcher, rep)
	projects := b.env.mongo.Database(mongoS6).Collection("projects")
	l.name, l.atTime = "S6", cfg.deleteAt
	l.at = func(ctx context.Context) error {
		_, err := projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: giantSet.projects[0].id}})
		return err
	}
	if s6, err = b.measureLoad(ctx, m, l, fsProject, mongoS6, second, giantSet); err != nil {
		return control, s6, fmt.Errorf("S6: %w", err)
	}
	left, err := giantSet.remaining(ctx, direct, nil)
	if err != nil {
		return control, s6, err
	}
	if left != 0 {
		return control, s6, fmt.Errorf("S6: %d documents of the giant project left after its cleanup", left)
	}
	return control, s6, nil
}
