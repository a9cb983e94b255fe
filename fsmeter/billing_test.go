package fsmeter_test

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"google.golang.org/api/iterator"
)

// billCase is one call made through a metered client and what Firestore's
// pricing rules bill for it.
type billCase struct {
	name   string
	call   func(ctx context.Context, c *firestore.Client) error
	rpcs   map[string]int
	reads  int
	writes int
	failed int
}

// billCases run in order on one project seeded by seedBilling.
var billCases = []billCase{
	{name: "query returning three documents", rpcs: map[string]int{"RunQuery": 1}, reads: 3,
		call: func(ctx context.Context, c *firestore.Client) error {
			return wantDocs(c.Collection("assets").Where("projectId", "==", "p1").Documents(ctx), 3)
		}},
	{name: "query returning none is one read", rpcs: map[string]int{"RunQuery": 1}, reads: 1,
		call: func(ctx context.Context, c *firestore.Client) error {
			return wantDocs(c.Collection("assets").Where("projectId", "==", "nobody").Documents(ctx), 0)
		}},
	{name: "projection query bills its documents", rpcs: map[string]int{"RunQuery": 1}, reads: 4,
		call: func(ctx context.Context, c *firestore.Client) error {
			return wantDocs(c.Collection("assets").Select().Documents(ctx), 4)
		}},
	{name: "listing collection ids is one read per call", rpcs: map[string]int{"ListCollectionIds": 2}, reads: 2,
		call: func(ctx context.Context, c *firestore.Client) error {
			for _, id := range []string{"a1", "a4"} { // a1 has a subcollection, a4 none
				if _, err := c.Doc("assets/" + id).Collections(ctx).GetAll(); err != nil {
					return err
				}
			}
			return nil
		}},
	{name: "listing documents", rpcs: map[string]int{"ListDocuments": 2}, reads: 2 + 1,
		call: func(ctx context.Context, c *firestore.Client) error {
			if n, err := countRefs(c.Collection("assets/a1/frames").DocumentRefs(ctx)); err != nil || n != 2 {
				return errors.Join(err, errors.New("want 2 frames"))
			}
			_, err := countRefs(c.Collection("assets/a4/frames").DocumentRefs(ctx))
			return err
		}},
	{name: "get of found and missing documents", rpcs: map[string]int{"BatchGetDocuments": 1}, reads: 3,
		call: func(ctx context.Context, c *firestore.Client) error {
			_, err := c.GetAll(ctx, []*firestore.DocumentRef{c.Doc("assets/a1"), c.Doc("assets/a2"), c.Doc("assets/none")})
			return err
		}},
	{name: "batch of three writes", rpcs: map[string]int{"Commit": 1}, writes: 3,
		call: func(ctx context.Context, c *firestore.Client) error {
			b := c.Batch()
			b.Set(c.Doc("other/x"), map[string]any{"v": 1})
			b.Update(c.Doc("assets/a2"), []firestore.Update{{Path: "projectName", Value: "n"}})
			b.Delete(c.Doc("other/never-there"))
			_, err := b.Commit(ctx)
			return err
		}},
	{name: "failed commit bills nothing", rpcs: map[string]int{"Commit": 1}, failed: 1,
		call: func(ctx context.Context, c *firestore.Client) error {
			if _, err := c.Doc("other/missing").Update(ctx, []firestore.Update{{Path: "v", Value: 2}}); err == nil {
				return errors.New("an update of a missing document succeeded")
			}
			return nil
		}},
	{name: "bulk writer deletes", rpcs: map[string]int{"BatchWrite": 1}, writes: 2,
		call: func(ctx context.Context, c *firestore.Client) error {
			bw := c.BulkWriter(ctx)
			j1, err1 := bw.Delete(c.Doc("assets/a1/frames/f1"))
			j2, err2 := bw.Delete(c.Doc("assets/a1/frames/f2"))
			bw.End()
			if err := errors.Join(err1, err2); err != nil {
				return err
			}
			_, err1 = j1.Results()
			_, err2 = j2.Results()
			return errors.Join(err1, err2)
		}},
	{name: "count aggregation is one read per 1,000 entries", rpcs: map[string]int{"RunAggregationQuery": 1}, reads: 1,
		call: func(ctx context.Context, c *firestore.Client) error {
			_, err := c.Collection("assets").NewAggregationQuery().WithCount("n").Get(ctx)
			return err
		}},
}

func seedBilling(t *testing.T, seed *firestore.Client) {
	firestoretest.SeedPaths(t, seed, map[string]map[string]any{
		"assets/a1":           {"projectId": "p1"},
		"assets/a2":           {"projectId": "p1"},
		"assets/a3":           {"projectId": "p1"},
		"assets/a4":           {"projectId": "p2"},
		"assets/a1/frames/f1": {"n": 1},
		"assets/a1/frames/f2": {"n": 2},
	})
}

func TestBilledReadsAndWritesThroughTheEmulator(t *testing.T) {
	seed, projectID := firestoretest.Client(t)
	host := firestoretest.RequireEmulator(t)
	seedBilling(t, seed)
	tally := &fsmeter.Tally{}
	client := meteredClient(t, projectID, tally, host)
	runBillCases(t, client, tally)
}

// TestMeterChainsOnFirestoresOwnPath checks the options for Firestore
// itself (dial options, chained): the client is pointed at the emulator as
// an ordinary endpoint, without FIRESTORE_EMULATOR_HOST.
func TestMeterChainsOnFirestoresOwnPath(t *testing.T) {
	seed, projectID := firestoretest.Client(t)
	host := firestoretest.RequireEmulator(t)
	seedBilling(t, seed)
	t.Setenv(firestoretest.EmulatorEnv, "")
	tally := &fsmeter.Tally{}
	opts, err := fsmeter.ClientOptions(tally, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, plainEndpoint(host)...)
	runBillCases(t, firestoretest.ClientWith(t, projectID, opts...), tally)
}

func runBillCases(t *testing.T, client *firestore.Client, tally *fsmeter.Tally) {
	t.Helper()
	for _, tc := range billCases {
		before := tally.Counts()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := tc.call(ctx, client)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := diff(tally.Counts(), before)
		if !maps.Equal(got.RPCs, tc.rpcs) || got.Reads != tc.reads || got.Writes != tc.writes || got.Failed != tc.failed {
			t.Errorf("%s: counted RPCs %v, %d reads, %d writes, %d failed; want %v, %d, %d, %d",
				tc.name, got.RPCs, got.Reads, got.Writes, got.Failed, tc.rpcs, tc.reads, tc.writes, tc.failed)
		}
	}
}

func diff(now, before fsmeter.Counts) fsmeter.Counts {
	d := fsmeter.Counts{RPCs: map[string]int{}, Reads: now.Reads - before.Reads,
		Writes: now.Writes - before.Writes, Failed: now.Failed - before.Failed}
	for m, n := range now.RPCs {
		if n != before.RPCs[m] {
			d.RPCs[m] = n - before.RPCs[m]
		}
	}
	return d
}

func meteredClient(t *testing.T, projectID string, rec fsmeter.Recorder, host string, obs ...fsmeter.Observer) *firestore.Client {
	t.Helper()
	opts, err := fsmeter.ClientOptions(rec, host, nil, obs...)
	if err != nil {
		t.Fatal(err)
	}
	return firestoretest.ClientWith(t, projectID, opts...)
}

func wantDocs(it *firestore.DocumentIterator, n int) error {
	docs, err := it.GetAll()
	if err != nil {
		return err
	}
	if len(docs) != n {
		return errors.New("unexpected number of documents")
	}
	return nil
}

func countRefs(it *firestore.DocumentRefIterator) (int, error) {
	n := 0
	for {
		_, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}
