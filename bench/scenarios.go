package main

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Event kinds as the watcher's metrics label them.
const (
	kindDeleted = "ProjectDeleted"
	kindUpdated = "ProjectUpdated"
)

// burst is a scenario of S1/S2/S4's kind: seed, one burst of MongoDB
// changes, time until Firestore agrees; the same data for the floors and
// the baseline.
type burst struct {
	name       string
	desc       string
	shape      shape
	kind       string
	maxDocs    int      // safety.maxDocsPerEvent
	env        []string // extra watcher environment
	events     func(*dataset) int
	mongoOp    func(context.Context, *mongo.Collection, *dataset) error
	writeFloor func(context.Context, *firestore.Client, *dataset) error
	planFloor  func(context.Context, *firestore.Client, *dataset) error
	baseline   func(context.Context, *firestore.Client, *dataset, *budget) error
	// baselineCost is the baseline's cost by its algorithm (baselineCost).
	baselineCost func(*dataset) cost
	writes       func(*dataset) int // writes the floors and the baseline make
	left         func(context.Context, *firestore.Client, *dataset) (int, error)
}

// defaultMaxDocs is safety.maxDocsPerEvent's default.
const defaultMaxDocs = 10000

// burstShape is S1's and S2's data: 200 projects of 30 assets, 10% of them
// with a subcollection of 2 documents.
var burstShape = shape{projects: 200, assets: 30, subEvery: 10, subDocs: 2}

func renamed(p project) string { return p.name + " (renamed)" }

func deleteBurst(name string, s shape) burst {
	return burst{
		name: name, shape: s, kind: kindDeleted, maxDocs: defaultMaxDocs,
		desc:   "cleanup burst (200 projects × 30 assets, 10% with 2 subdocuments)",
		events: func(d *dataset) int { return len(d.projects) },
		mongoOp: func(ctx context.Context, c *mongo.Collection, _ *dataset) error {
			_, err := c.DeleteMany(ctx, bson.D{})
			return err
		},
		writeFloor: floorDelete,
		planFloor: func(ctx context.Context, c *firestore.Client, d *dataset) error {
			return planDelete(ctx, c, d, true)
		},
		baseline: func(ctx context.Context, c *firestore.Client, d *dataset, b *budget) error {
			return baselineDelete(ctx, c, d, true, b)
		},
		baselineCost: func(d *dataset) cost { return baselineCost(d, true, false) },
		writes:       (*dataset).docs,
		left: func(ctx context.Context, c *firestore.Client, d *dataset) (int, error) {
			return d.remaining(ctx, c, nil)
		},
	}
}

func renameBurst(name string, s shape) burst {
	return burst{
		name: name, shape: s, kind: kindUpdated, maxDocs: defaultMaxDocs,
		desc:   "rename burst (200 projects × 30 assets)",
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
		writeFloor: func(ctx context.Context, c *firestore.Client, d *dataset) error {
			return floorRename(ctx, c, d, renamed)
		},
		planFloor: func(ctx context.Context, c *firestore.Client, d *dataset) error {
			return planRename(ctx, c, d, renamed)
		},
		baseline: func(ctx context.Context, c *firestore.Client, d *dataset, b *budget) error {
			return baselineRename(ctx, c, d, renamed, b)
		},
		baselineCost: func(d *dataset) cost { return baselineCost(d, false, true) },
		writes:       (*dataset).assetCount,
		left: func(ctx context.Context, c *firestore.Client, d *dataset) (int, error) {
			return d.remaining(ctx, c, renamed)
		},
	}
}

// giantCollections is the watcher's collections without recursion (S4, S6).
const giantCollections = `WATCHER_SYNC_COLLECTIONS=[{"name":"storyboards"},{"name":"aiAnalyses"},{"name":"generatedMedia"}]`

// giant is S4: one project, no per-event document limit, and no recursive
// collection: the emulator answers each document's subcollection listing
// in time that grows with the database (10,000 assets: 18 s instead of
// 1.4 s), so S4 measures paging and memory while S1 measures recursion.
func giant(assets int) burst {
	b := deleteBurst("S4", shape{projects: 1, assets: assets})
	b.desc = fmt.Sprintf("giant project (%d assets, recursive off)", assets)
	b.maxDocs = 0
	b.env = []string{giantCollections}
	b.planFloor = func(ctx context.Context, c *firestore.Client, d *dataset) error {
		return planDelete(ctx, c, d, false)
	}
	b.baseline = func(ctx context.Context, c *firestore.Client, d *dataset, bud *budget) error {
		return baselineDelete(ctx, c, d, false, bud)
	}
	b.baselineCost = func(d *dataset) cost { return baselineCost(d, false, false) }
	return b
}

// runBurst measures every variant on fresh copies of the same data under
// model m.
func (b *bench) runBurst(ctx context.Context, sc burst, m model, rep int) (run, error) {
	r := run{EmulatorCPU: map[variant]float64{}, Cost: map[variant]cost{}}
	for _, v := range allVariants {
		if !b.cfg.variants[v] {
			continue
		}
		got, err := b.burstVariant(ctx, sc, m, v, rep)
		if err != nil {
			return r, fmt.Errorf("%s %s %s: %w", sc.name, m.name, v, err)
		}
		r.Docs = got.docs
		r.EmulatorCPU[v], r.Cost[v] = got.emuCPU, got.cost
		secs := got.took.Seconds()
		switch v {
		case vWatcher:
			r.Watcher, r.PeakRSS, r.CPUSeconds = secs, got.rss, got.cpu
		case vWriteFloor:
			r.WriteFloor = secs
		case vPlanFloor:
			r.PlanFloor = secs
		case vBaseline:
			r.Baseline, r.BaselineEstimated = secs, got.estimated
		}
		b.log.Info().Str("scenario", sc.name).Str("model", m.name).Str("variant", string(v)).Int("rep", rep).
			Int("documents", got.docs).Float64("seconds", secs).Int("rpcs", got.cost.RPCs).
			Int("failedRpcs", got.cost.Failed).Int("billedReads", got.cost.Reads).Int("billedWrites", got.cost.Writes).Msg("measured")
	}
	return r, nil
}
