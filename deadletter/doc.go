// Package deadletter keeps the events the watcher could not apply (a
// permanent failure, no attempts left, an invalid project id, a safety
// limit) in a MongoDB collection (config deadLetter.database and
// deadLetter.collection), and applies them again on request (watcher dlq
// retry). Store implements watcher.DeadLetterStore.
package deadletter
