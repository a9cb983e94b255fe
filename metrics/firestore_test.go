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
	health := fsmeter.NewHealth()
	f, err := NewFirestoreCalls(reg, health)
	if err != nil {
		t.Fatal(err)
	}
	f.Call("RunQuery", codes.OK, 30, 0)
	f.Call("RunQuery", codes.OK, 1, 0)
	f.Call("RunQuery", codes.Unavailable, 0, 0)
	f.Call("RunQuery", codes.DeadlineExceeded, 0, 0)
	f.Call("BatchWrite", codes.InvalidArgument, 0, 0) // about the data: not an error of Firestore
	f.Call("RunQuery", codes.Canceled, 0, 0)          // the watcher gave up: neither
	f.Call("BatchWrite", codes.OK, 0, 20)
	f.Call("ListCollectionIds", codes.OK, 1, 0)
	want := `
# HELP watcher_firestore_billed_reads_total Document reads Firestore bills for the watcher's RPCs (one per document returned, one per query or listing that returns none).
# TYPE watcher_firestore_billed_reads_total counter
watcher_firestore_billed_reads_total 32
# HELP watcher_firestore_billed_writes_total Document writes and deletes Firestore bills for the watcher's RPCs.
# TYPE watcher_firestore_billed_writes_total counter
watcher_firestore_billed_writes_total 20
# HELP watcher_firestore_errors_total Firestore RPCs that failed on Firestore's side (unavailable, no answer within firestore.callTimeout, permission denied, …), by gRPC status code.
# TYPE watcher_firestore_errors_total counter
watcher_firestore_errors_total{code="DataLoss"} 0
watcher_firestore_errors_total{code="DeadlineExceeded"} 1
watcher_firestore_errors_total{code="Internal"} 0
watcher_firestore_errors_total{code="NotFound"} 0
watcher_firestore_errors_total{code="PermissionDenied"} 0
watcher_firestore_errors_total{code="ResourceExhausted"} 0
watcher_firestore_errors_total{code="Unauthenticated"} 0
watcher_firestore_errors_total{code="Unavailable"} 1
watcher_firestore_errors_total{code="Unimplemented"} 0
watcher_firestore_errors_total{code="Unknown"} 0
# HELP watcher_firestore_rpcs_total Firestore RPCs finished, by method and gRPC status code.
# TYPE watcher_firestore_rpcs_total counter
watcher_firestore_rpcs_total{code="Canceled",method="RunQuery"} 1
watcher_firestore_rpcs_total{code="DeadlineExceeded",method="RunQuery"} 1
watcher_firestore_rpcs_total{code="InvalidArgument",method="BatchWrite"} 1
watcher_firestore_rpcs_total{code="OK",method="BatchWrite"} 1
watcher_firestore_rpcs_total{code="OK",method="ListCollectionIds"} 1
watcher_firestore_rpcs_total{code="OK",method="RunQuery"} 2
watcher_firestore_rpcs_total{code="Unavailable",method="RunQuery"} 1
# HELP watcher_firestore_up 1 while Firestore answers the watcher's calls; 0 before its first answer and while they fail.
# TYPE watcher_firestore_up gauge
watcher_firestore_up 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	health.Finished("RunQuery", nil)
	up := `
# HELP watcher_firestore_up 1 while Firestore answers the watcher's calls; 0 before its first answer and while they fail.
# TYPE watcher_firestore_up gauge
watcher_firestore_up 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(up), "watcher_firestore_up"); err != nil {
		t.Errorf("after Firestore answered: %v", err)
	}
	if _, err := NewFirestoreCalls(reg, health); err == nil {
		t.Fatal("registering twice succeeded")
	}
}
