// Package firestoretest holds helpers for tests that run against the
// Firestore emulator: a client on a fresh project id per test (so tests never
// see each other's data), seeding, and reading documents back.
package firestoretest
