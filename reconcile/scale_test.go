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

func TestScanOf20000AssetsHasBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 20,000-document scan")
	}
	const (
		projects   = 2000
		perProject = 10
		deleted    = 20 // projects missing from MongoDB: their assets are orphans
		renamed    = 20 // projects whose copies are stale
	)
	f := newFixture(t, fssync.ModeDelete)
	f.cfg.Collections = f.cfg.Collections[1:2] // aiAnalyses
	f.cfg.Fields = f.cfg.Fields[:1]
	a, err := fssync.New(f.fs, f.cfg, f.log)
	if err != nil {
		t.Fatal(err)
	}
	f.applier = a
	ctx := context.Background()

	start := time.Now()
	var docs []any
	bw := f.fs.BulkWriter(ctx)
	jobs := make([]*firestore.BulkWriterJob, 0, projects*perProject)
	for i := range projects {
		oid := bson.NewObjectID()
		name := fmt.Sprintf("project %d", i)
		stored := name
		switch {
		case i < deleted:
		case i < deleted+renamed:
			stored = "stale"
			docs = append(docs, bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: name}})
		default:
			docs = append(docs, bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: name}})
		}
		for j := range perProject {
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
	jobs = nil
	if _, err := f.projects.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	docs = nil
	t.Logf("seeded %d assets over %d projects in %s", projects*perProject, projects, time.Since(start).Round(time.Millisecond))

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	sum, err := f.reconciler(Options{}).Run(ctx)
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("scan of %d documents: %s; heap in use at start %.1f MiB, peak %.1f MiB (growth %.1f MiB)",
		sum.Totals.Scanned, sum.Duration.Round(time.Millisecond),
		float64(base)/(1<<20), float64(peak.Load())/(1<<20), float64(growth)/(1<<20))

	// The orphans are deleted by their project's cleanup as soon as the
	// first one is seen, so some are found but never scanned.
	if got := sum.Totals; got.Orphans != deleted*perProject || got.Drifted != renamed*perProject ||
		got.RepairedOrphans != deleted*perProject || got.RepairedDrift != renamed*perProject {
		t.Errorf("totals %+v, want %d orphans and %d drifted, all repaired", got, deleted*perProject, renamed*perProject)
	}
	if growth > maxScanHeapGrowth {
		t.Errorf("heap grew by %.1f MiB during the scan, want at most %d MiB", float64(growth)/(1<<20), maxScanHeapGrowth>>20)
	}
}
