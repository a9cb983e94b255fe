// Package health serves the watcher's HTTP endpoints on http.addr:
//
//   - /healthz (liveness): 200 while the main loop beats (Server.Beat) within
//     the liveness window; 503 with the reason otherwise. A fresh server
//     counts its start as a beat, so the main loop has one window to begin.
//     Extra liveness checks (AddLivenessCheck, e.g. a stall watchdog) must
//     pass too; the body lists each with ok or its error.
//   - /readyz (readiness): 200 only when every named check passes; the body
//     lists each check with "ok" or its error, one per line, sorted by name.
//     Each check runs with its own short timeout.
//   - /metrics: the Prometheus exposition of the gatherer given to New.
//
// Probe is the client side, for `watcher healthcheck` (Docker HEALTHCHECK).
package health
