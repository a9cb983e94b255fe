// Package reconcile is the watcher's safety net: it scans the configured
// Firestore asset collections, looks the projects they name up in MongoDB,
// and repairs what the change stream missed: orphans (assets of a project
// that no longer exists) are cleaned with the same code path as
// ProjectDeleted, drifted copies (a copied field that differs from MongoDB)
// are rewritten with the same code path as ProjectUpdated.
//
// The scan reads documents page by page, selecting only the id field and the
// copied target fields, and looks project ids up in batches, so memory stays
// bounded whatever the size of the collections. Deciding what to repair is
// a pure function (Plan). Nothing is ever deleted because a lookup failed:
// only a successful lookup that finds no project makes an orphan.
package reconcile
