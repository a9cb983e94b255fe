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
// only a successful lookup that finds no project makes an orphan. The
// lookups go to the primary with majority read concern.
//
// Each repair is an event like the stream's and obeys the same existence
// rules, checked right before it is applied (watcher.Prepare): an orphan
// whose project exists by then, in either form of its id, is not cleaned;
// the copies of a project whose id has a twin (an ObjectID and a string
// holding its hex) are not rewritten; such repairs are skipped and listed.
// A drift repair names the fields to copy, and their values are read right
// before the write. A projectId that is 24 hex digits with an uppercase
// letter is reported invalid: the watcher writes ObjectIDs in lowercase.
package reconcile
