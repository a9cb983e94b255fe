package health

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Beat records that the main loop is alive. Cheap; safe for concurrent use.
func (s *Server) Beat() {
	s.lastBeat.Store(s.now().UnixNano())
}

// Liveness reports whether the main loop beat within the liveness window,
// with a one-line reason.
func (s *Server) Liveness() (alive bool, reason string) {
	now := s.now()
	ns := s.lastBeat.Load()
	if ns == 0 {
		since := now.Sub(s.started)
		if since <= s.livenessWindow {
			return true, fmt.Sprintf("ok: starting, no heartbeat yet (%s since start, window %s)", round(since), s.livenessWindow)
		}
		return false, fmt.Sprintf("main loop not alive: no heartbeat in %s since start (window %s)", round(since), s.livenessWindow)
	}
	age := now.Sub(time.Unix(0, ns))
	if age <= s.livenessWindow {
		return true, fmt.Sprintf("ok: last heartbeat %s ago (window %s)", round(age), s.livenessWindow)
	}
	return false, fmt.Sprintf("main loop not alive: last heartbeat %s ago (window %s)", round(age), s.livenessWindow)
}

// AddLivenessCheck registers (or replaces) an extra liveness check called
// name, e.g. a stall watchdog (health.stallTimeout: work pending and nothing
// completed for too long). /healthz fails when the heartbeat is stale or any
// liveness check fails. Checks run with the check timeout.
func (s *Server) AddLivenessCheck(name string, fn func(context.Context) error) {
	s.checksMu.Lock()
	defer s.checksMu.Unlock()
	s.liveChecks[name] = fn
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	alive, reason := s.Liveness()
	var b strings.Builder
	b.WriteString(reason + "\n")
	for _, res := range s.runChecks(r.Context(), s.liveChecks) {
		if res.Err != nil {
			alive = false
			fmt.Fprintf(&b, "%s: error: %s\n", res.Name, oneLine(res.Err.Error()))
			continue
		}
		fmt.Fprintf(&b, "%s: ok\n", res.Name)
	}
	status := http.StatusOK
	if !alive {
		status = http.StatusServiceUnavailable
		s.log.Warn().Str("reason", oneLine(b.String())).Msg("liveness probe failed")
	}
	writeText(w, status, b.String())
}

func round(d time.Duration) time.Duration {
	return d.Round(time.Millisecond)
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
