// Package e2e holds the end-to-end tests: they build cmd/watcher, run the
// binary as a subprocess with a config file against internal/mongotest (or
// WATCHER_TEST_MONGO_URI) and the Firestore emulator, and check the end state
// in Firestore.
package e2e
