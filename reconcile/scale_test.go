package reconcile

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	fssync "github.com/projectwatcher/watcher/sync"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// maxScanHeapGrowth bounds the heap a scan may add over its start: the
// pending batch (a few thousand small documents), one Firestore page and
// the clients' buffers; far below what holding 20,000 documents would take
// with the clients' overhead per snapshot.
const maxScanHeapGrowth = 48 << 20

// The world of the scan: scanProjects projects with scanPerProject
// aiAnalyses each, of which the first scanDeleted are missing from MongoDB
// (their assets are orphans) and the next scanRenamed have stale copies.
const (
	scanProjects   = 2000
	scanPerProject = 10
	scanDeleted    = 20
	scanRenamed    = 20
)

func TestScanOf20000AssetsHasBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 20,000-document scan")
	}
	f := newFixture(t, fssync.ModeDelete)
	f.cfg.Collections = f.cfg.Collections[1:2] // aiAnalyses
	f.cfg.Fields = f.cfg.Fields[:1]
	a, err := fssync.New(f.fs, f.cfg, f.log)
	if err != nil {
		t.Fatal(err)
	}
	f.applier = a
	ctx := context.Background()
	seedScanWorld(ctx, t, f)

	var sum Summary
	base, peak := peakHeapDuring(func() { sum, err = f.reconciler(Options{}).Run(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	growth := int64(peak) - int64(base)
	t.Logf("scan of %d documents: %s; heap in use at start %.1f MiB, peak %.1f MiB (growth %.1f MiB)",
		sum.Totals.Scanned, sum.Duration.Round(time.Millisecond),
		float64(base)/(1<<20), float64(peak)/(1<<20), float64(growth)/(1<<20))

	// The orphans are deleted by their project's cleanup as soon as the
	// first one is seen, so some are found but never scanned.
	if got := sum.Totals; got.Orphans != scanDeleted*scanPerProject || got.Drifted != scanRenamed*scanPerProject ||
		got.RepairedOrphans != scanDeleted*scanPerProject || got.RepairedDrift != scanRenamed*scanPerProject {
		t.Errorf("totals %+v, want %d orphans and %d drifted, all repaired", got, scanDeleted*scanPerProject, scanRenamed*scanPerProject)
	}
	if growth > maxScanHeapGrowth {
		t.Errorf("heap grew by %.1f MiB during the scan, want at most %d MiB", float64(growth)/(1<<20), maxScanHeapGrowth>>20)
	}
}

// seedScanWorld writes the scan's assets to Firestore and its live
// projects to MongoDB.
func seedScanWorld(ctx context.Context, t *testing.T, f *fixture) {
	t.Helper()
	start := time.Now()
	var docs []any
	bw := f.fs.BulkWriter(ctx)
	jobs := make([]*firestore.BulkWriterJob, 0, scanProjects*scanPerProject)
	for i := range scanProjects {
		oid := bson.NewObjectID()
		name := fmt.Sprintf("project %d", i)
		stored := name
		switch {
		case i < scanDeleted:
		case i < scanDeleted+scanRenamed:
			stored = "stale"
			docs = append(docs, bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: name}})
		default:
			docs = append(docs, bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: name}})
		}
		for j := range scanPerProject {
			ref := f.fs.Collection("aiAnalyses").Doc(fmt.Sprintf("%s-%02d", oid.Hex(), j))
			job, err := bw.Set(ref, map[string]any{"projectId": oid.Hex(), "projectName": stored, "body": "some asset payload"})
			if err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, job)
		}
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.projects.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d assets over %d projects in %s", scanProjects*scanPerProject, scanProjects, time.Since(start).Round(time.Millisecond))
}

// peakHeapDuring runs run and returns the heap in use before it (after a
// GC) and the highest heap in use sampled every 10ms while it ran.
func peakHeapDuring(run func()) (base, peak uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base = ms.HeapInuse
	var highest atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > highest.Load() {
				highest.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	run()
	close(done)
	wg.Wait()
	return base, highest.Load()
}
