// Package fsmeter counts what a Firestore client asks of Firestore: its
// RPCs by method and status code, and the document reads and writes
// Firestore bills for them. It is a pair of gRPC client interceptors
// (ClientOptions puts them on a client); what they count goes to a Recorder,
// which the caller provides (the watcher's Prometheus metrics, or a Tally),
// and how each RPC ended goes to Observers: Health follows from it whether
// Firestore answers (for readiness, watcher_firestore_up and the retries'
// outage check). A call that the caller's firestore.callTimeout ended (see
// package fscall) counts as DeadlineExceeded, not as Canceled.
//
// Billing follows Firestore's pricing rules, per finished RPC:
//
//	RunQuery             one read per document returned; one for a query that returns none
//	RunAggregationQuery  one read per 1,000 index entries counted (at least one)
//	BatchGetDocuments    one read per document asked for (found or missing)
//	GetDocument          one read
//	ListDocuments        one read per document returned; one for a listing that returns none
//	ListCollectionIds    one read per call
//	Commit               one write per document written or deleted
//	BatchWrite           one write per write that succeeded
//	Create/Update/DeleteDocument  one write
//
// A failed RPC bills the documents it returned before failing (a stream
// that broke midway) and no writes (Commit and the single-document writes
// are atomic). An RPC that failed on the client's side only (its deadline
// passed) may still have been applied, and billed, by Firestore: those
// writes are not counted, so under timeouts the count is a lower bound. Other methods (transactions, Listen) are counted as RPCs
// with nothing billed. Index-entry reads beyond the first document and
// network egress, which Firestore also bills, are not counted.
package fsmeter
