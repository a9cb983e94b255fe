package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"

	"github.com/projectwatcher/watcher/fsmeter"
)

var _ fsmeter.Recorder = (*FirestoreCalls)(nil)

func TestFirestoreCalls(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	f, err := NewFirestoreCalls(reg)
	if err != nil {
		t.Fatal(err)
	}
	f.Call("RunQuery", codes.OK, 30, 0)
	f.Call("RunQuery", codes.OK, 1, 0)
	f.Call("RunQuery", codes.Unavailable, 0, 0)
	f.Call("BatchWrite", codes.OK, 0, 20)
	f.Call("ListCollectionIds", codes.OK, 1, 0)
	want := `
# HELP watcher_firestore_billed_reads_total Document reads Firestore bills for the watcher's RPCs (one per document returned, one per query or listing that returns none).
# TYPE watcher_firestore_billed_reads_total counter
watcher_firestore_billed_reads_total 32
# HELP watcher_firestore_billed_writes_total Document writes and deletes Firestore bills for the watcher's RPCs.
# TYPE watcher_firestore_billed_writes_total counter
watcher_firestore_billed_writes_total 20
# HELP watcher_firestore_rpcs_total Firestore RPCs finished, by method and gRPC status code.
# TYPE watcher_firestore_rpcs_total counter
watcher_firestore_rpcs_total{code="OK",method="BatchWrite"} 1
watcher_firestore_rpcs_total{code="OK",method="ListCollectionIds"} 1
watcher_firestore_rpcs_total{code="OK",method="RunQuery"} 2
watcher_firestore_rpcs_total{code="Unavailable",method="RunQuery"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFirestoreCalls(reg); err == nil {
		t.Fatal("registering twice succeeded")
	}
}
