// Package sync is the Firestore side of the watcher: cleanup of a deleted
// project's assets (delete or archive, recursive) and propagation of copied
// project fields. Importers alias it as fssync.
package sync
