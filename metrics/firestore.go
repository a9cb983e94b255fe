package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"

	"github.com/projectwatcher/watcher/fsmeter"
)

// FirestoreCalls exposes what the watcher asks of Firestore, as counted by
// package fsmeter (it implements fsmeter.Recorder), and whether Firestore
// answers:
//
//	watcher_firestore_rpcs_total{method,code}   counter: finished RPCs by method (RunQuery, BatchWrite, …) and gRPC status code
//	watcher_firestore_errors_total{code}        counter: RPCs that failed Firestore-side (fsmeter.Failing: Unavailable, DeadlineExceeded, PermissionDenied, …), by code
//	watcher_firestore_up                        gauge 1|0: 1 while Firestore answers (fsmeter.Health), 0 before its first answer and while calls fail
//	watcher_firestore_billed_reads_total        counter: document reads Firestore bills for them
//	watcher_firestore_billed_writes_total       counter: document writes (and deletes) Firestore bills for them
//
// A call that firestore.callTimeout ended counts as DeadlineExceeded. The
// errors exclude answers about the data (an invalid value, a conflict) and
// calls the watcher cancelled itself (shutdown). The billed counts follow
// Firestore's pricing rules (see fsmeter): they are what the watcher
// costs, and they do not depend on the machine.
type FirestoreCalls struct {
	rpcs   *prometheus.CounterVec
	errs   *prometheus.CounterVec
	reads  prometheus.Counter
	writes prometheus.Counter
}

// FirestoreHealth is what watcher_firestore_up shows (fsmeter.Health).
type FirestoreHealth interface{ Up() bool }

// NewFirestoreCalls creates the collectors and registers them on reg;
// watcher_firestore_up reads health at every scrape.
func NewFirestoreCalls(reg prometheus.Registerer, health FirestoreHealth) (*FirestoreCalls, error) {
	if reg == nil || health == nil {
		return nil, errors.New("metrics: nil registerer or Firestore health")
	}
	f := &FirestoreCalls{
		rpcs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "firestore_rpcs_total",
			Help: "Firestore RPCs finished, by method and gRPC status code.",
		}, []string{"method", "code"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "firestore_errors_total",
			Help: "Firestore RPCs that failed on Firestore's side (unavailable, no answer within firestore.callTimeout, permission denied, …), by gRPC status code.",
		}, []string{"code"}),
		reads: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "firestore_billed_reads_total",
			Help: "Document reads Firestore bills for the watcher's RPCs (one per document returned, one per query or listing that returns none).",
		}),
		writes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "firestore_billed_writes_total",
			Help: "Document writes and deletes Firestore bills for the watcher's RPCs.",
		}),
	}
	up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "firestore_up",
		Help: "1 while Firestore answers the watcher's calls; 0 before its first answer and while they fail.",
	}, func() float64 {
		if health.Up() {
			return 1
		}
		return 0
	})
	for _, c := range []prometheus.Collector{f.rpcs, f.errs, f.reads, f.writes, up} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	for _, code := range fsmeter.FailingCodes() {
		f.errs.WithLabelValues(code.String())
	}
	return f, nil
}

// Call records one finished RPC (fsmeter.Recorder).
func (f *FirestoreCalls) Call(method string, code codes.Code, reads, writes int) {
	f.rpcs.WithLabelValues(method, code.String()).Inc()
	if fsmeter.Failing(code) {
		f.errs.WithLabelValues(code.String()).Inc()
	}
	if reads > 0 {
		f.reads.Add(float64(reads))
	}
	if writes > 0 {
		f.writes.Add(float64(writes))
	}
}
