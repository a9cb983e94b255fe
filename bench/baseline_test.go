package main

import (
	"context"
	"maps"
	"testing"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// offlineClient names documents; it never connects.
func offlineClient(t *testing.T) *firestore.Client {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///127.0.0.1:1", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := firestore.NewClient(context.Background(), "offline", option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// S1's data per project: 12 storyboards (3 with 2 subdocuments), 9
// aiAnalyses, 9 generatedMedia.
func TestBaselineCostOfS1(t *testing.T) {
	d := newDataset(offlineClient(t), burstShape)
	got := baselineCost(d, true, false)
	want := map[string]int{"RunQuery": 600, "ListCollectionIds": 200 * (12 + 6), "ListDocuments": 200 * 3, "Commit": 200 * 36}
	if !maps.Equal(got.ByMethod, want) {
		t.Errorf("RPCs %v, want %v", got.ByMethod, want)
	}
	// Reads: 30 documents returned by the queries, 18 subcollection
	// listings, 6 subdocuments listed, per project.
	if got.Reads != 200*54 || got.Writes != 200*36 {
		t.Errorf("billed %d reads and %d writes, want %d and %d", got.Reads, got.Writes, 200*54, 200*36)
	}
	rename := baselineCost(d, false, true)
	if rename.RPCs != 600+6000 || rename.Reads != 6000 || rename.Writes != 6000 {
		t.Errorf("rename: %d RPCs, %d reads, %d writes; want 6600, 6000, 6000", rename.RPCs, rename.Reads, rename.Writes)
	}
}
