package fsmeter_test

import (
	"context"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/internal/firestoretest"
)

// A query the caller stops after its first document never reaches the end
// of its stream; it is counted all the same, with the documents received.
func TestAbandonedQueryIsCounted(t *testing.T) {
	seed, projectID := firestoretest.Client(t)
	host := firestoretest.RequireEmulator(t)
	seedBilling(t, seed)
	tally := &fsmeter.Tally{}
	client := meteredClient(t, projectID, tally, host)

	it := client.Collection("assets").Where("projectId", "==", "p1").Documents(context.Background())
	if _, err := it.Next(); err != nil {
		t.Fatal(err)
	}
	it.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for tally.Counts().RPCs["RunQuery"] == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := tally.Counts()
	if got.RPCs["RunQuery"] != 1 || got.Reads < 1 || got.Reads > 3 {
		t.Fatalf("counted %v and %d reads, want one RunQuery with 1 to 3 reads", got.RPCs, got.Reads)
	}
}
