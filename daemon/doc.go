// Package daemon assembles the running watcher from its parts: MongoDB and
// Firestore clients, the applier chain (safety limit, dry run), checkpoint
// store, dead letters, metrics, the health server, leader election with a
// fenced checkpoint, and the background reconciliation. cmd/watcher calls
// Run; the parts themselves live in their own packages.
package daemon
