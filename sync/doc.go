// Package sync is the Firestore side of the watcher: cleanup of a deleted
// project's assets (delete or archive, recursive) and propagation of copied
// project fields. Importers alias it as fssync.
//
// Applier.Apply turns an event into an operation (cleanup.go,
// propagate.go) and runGroup (group.go) carries it out, collection by
// collection: the project's documents are read page by page (discover.go,
// pages.go), the operation names the write each one needs, and pages of
// writes go through a BulkWriter (bulk.go), a few at a time (inflight.go);
// a recursive cleanup deletes each document's subtree first
// (subcollections.go). Applier.ApplyBatch (batch.go) runs several events
// through the same path at once: each collection is read once for them
// (`in`) and each page split back by project, each event's part going to
// its own share (share.go), so limits, writes, reports and errors stay per
// event. The safety limit (limit.go) and the dry run are options of that
// one path.
package sync
