// Package metrics exposes the watcher's Prometheus metrics. Metrics
// implements watcher.Observer; its collectors are registered on the
// registry passed to New (never on the global default registry).
//
// Exposed series (all prefixed watcher_):
//
//	watcher_changes_received_total{operation_type}          counter
//	watcher_events_applied_total{type,outcome}              counter (outcome: ok|error)
//	watcher_firestore_documents_total{collection,action}    counter (action: deleted|archived|updated)
//	watcher_apply_duration_seconds{type}                    histogram
//	watcher_end_to_end_lag_seconds{type}                    histogram (apply time − event wall time)
//	watcher_stream_up                                       gauge 0|1
//	watcher_lag_seconds                                     gauge, computed at scrape time
//	watcher_checkpoint_age_seconds                          gauge, computed at scrape time
//	watcher_last_heartbeat_timestamp_seconds                gauge (unix seconds)
//
// FirestoreCalls adds what the Firestore client's interceptors see
// (package fsmeter):
//
//	watcher_firestore_rpcs_total{method,code}               counter
//	watcher_firestore_errors_total{code}                    counter (failures on Firestore's side: fsmeter.Failing)
//	watcher_firestore_up                                    gauge 0|1 (fsmeter.Health)
//	watcher_firestore_billed_reads_total                    counter
//	watcher_firestore_billed_writes_total                   counter
//
// and Failures, Leadership and Reconcile theirs (see each type).
//
// watcher_lag_seconds is now minus the cluster time of the newest
// successfully applied event; watcher_checkpoint_age_seconds is now minus
// the time of the newest checkpoint save. Both are -1 until their first
// observation (-1 rather than NaN: NaN poisons sums and max() over
// replicas, and a negative value is impossible otherwise). Note that the lag
// keeps growing while no project changes: alert on it together with
// watcher_changes_received_total, or on the checkpoint age.
//
// Go runtime and process collectors are the caller's to register;
// RegisterRuntime does it in one call.
package metrics
