// Package daemon assembles the running watcher from its parts, in one
// place and in the order a reader follows:
//
//   - Open (open.go) connects the MongoDB and Firestore clients once and
//     builds what sits directly on them: the projects collection and its
//     resolver, the dead-letter and checkpoint stores, the applier chain
//     (safety limit, dry run). The reconcile, dlq and checkpoint commands
//     use it too.
//   - build (build.go) adds the metrics, the health server and its checks,
//     the background reconciliation, the pipeline every run of the watcher
//     shares, and the instance that runs it alone or under leader election.
//   - pipeline.watcherOptions (options.go) is the only place the watcher's
//     options are written; the per-run values (checkpoint store, abort) are
//     its arguments, chosen by the instance (leader.go): the configured
//     store, a dry run's memory store, or a lease term's fenced store.
//   - Run (run.go): open, build, serve, run until the context ends, stop.
//
// The parts themselves live in their own packages.
package daemon
