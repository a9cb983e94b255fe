// Package fsfence keeps a Firestore client from writing outside a leader
// lease term.
//
// A Fence is a gRPC client interceptor installed on the daemon's Firestore
// client after every other interceptor, the last step before an RPC goes
// out. Before each write RPC
// (BatchWrite, Commit, and the single-document writes) it asks the gate of
// the current term whether this instance may still write; without a gate
// (a standby, or between terms) and when the gate says no, it refuses the
// RPC before a byte leaves, with an error that wraps event.ErrTermEnded.
// Reads always pass.
//
// The check is synchronous: a process paused past its lease deadline
// (SIGSTOP, a long GC pause, a frozen VM) and resumed finds the term over
// at its next write, even when the lease's own timer has not fired yet.
// What it cannot stop is a write that passed the check just before the
// pause: the limit the README states.
package fsfence
