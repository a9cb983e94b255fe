// Package watchertest holds the test helpers that several packages' tests
// share: BSON builders, a MongoDB database per test (internal/mongotest, or
// WATCHER_TEST_MONGO_URI), a log buffer safe for concurrent writes, polling
// with a deadline, and in-memory fakes of the pipeline's ports. It is
// imported by tests only.
package watchertest
