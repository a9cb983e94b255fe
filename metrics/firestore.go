package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
)

// FirestoreCalls exposes what the watcher asks of Firestore, as counted by
// package fsmeter (it implements fsmeter.Recorder):
//
//	watcher_firestore_rpcs_total{method,code}   counter: finished RPCs by method (RunQuery, BatchWrite, …) and gRPC status code
//	watcher_firestore_billed_reads_total        counter: document reads Firestore bills for them
//	watcher_firestore_billed_writes_total       counter: document writes (and deletes) Firestore bills for them
//
// The billed counts follow Firestore's pricing rules (see fsmeter): they
// are what the watcher costs, and they do not depend on the machine.
type FirestoreCalls struct {
	rpcs   *prometheus.CounterVec
	reads  prometheus.Counter
	writes prometheus.Counter
}

// NewFirestoreCalls creates the collectors and registers them on reg.
func NewFirestoreCalls(reg prometheus.Registerer) (*FirestoreCalls, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil registerer")
	}
	f := &FirestoreCalls{
		rpcs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "firestore_rpcs_total",
			Help: "Firestore RPCs finished, by method and gRPC status code.",
		}, []string{"method", "code"}),
		reads: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "firestore_billed_reads_total",
			Help: "Document reads Firestore bills for the watcher's RPCs (one per document returned, one per query or listing that returns none).",
		}),
		writes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "firestore_billed_writes_total",
			Help: "Document writes and deletes Firestore bills for the watcher's RPCs.",
		}),
	}
	for _, c := range []prometheus.Collector{f.rpcs, f.reads, f.writes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	return f, nil
}

// Call records one finished RPC (fsmeter.Recorder).
func (f *FirestoreCalls) Call(method string, code codes.Code, reads, writes int) {
	f.rpcs.WithLabelValues(method, code.String()).Inc()
	if reads > 0 {
		f.reads.Add(float64(reads))
	}
	if writes > 0 {
		f.writes.Add(float64(writes))
	}
}
