// Package daemon assembles the running watcher from its parts. Open
// connects the MongoDB and Firestore clients once and builds on them the
// applier chain (safety limit, dry run), the checkpoint store and the dead
// letters; the reconcile, dlq and checkpoint commands use it too. Run adds
// the metrics, the health server, leader election with a fenced checkpoint,
// and the background reconciliation. cmd/watcher calls Run; the parts
// themselves live in their own packages.
package daemon
