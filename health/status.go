package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
)

// StatusFunc returns the document served as JSON on /status (for people
// and scripts): main injects it.
type StatusFunc func(ctx context.Context) any

// statusHooks are the providers main injects for /status and the role line
// of /readyz.
type statusHooks struct {
	mu     sync.RWMutex
	status StatusFunc
	role   func() string
}

// SetStatus sets the /status provider. Without one, /status answers 404.
func (s *Server) SetStatus(fn StatusFunc) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.status = fn
}

// SetRole sets the provider of the instance's role (for example "leader"
// or "standby"), shown as a "role: ..." line in the /readyz body.
func (s *Server) SetRole(fn func() string) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.role = fn
}

// role returns the current role, or "" without a provider.
func (s *Server) role() string {
	s.hooks.mu.RLock()
	fn := s.hooks.role
	s.hooks.mu.RUnlock()
	if fn == nil {
		return ""
	}
	return fn()
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	s.hooks.mu.RLock()
	fn := s.hooks.status
	s.hooks.mu.RUnlock()
	if fn == nil {
		writeText(w, http.StatusNotFound, "no status provider\n")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.checkTimeout)
	defer cancel()
	body, err := json.MarshalIndent(fn(ctx), "", "  ")
	if err != nil {
		s.log.Error().Err(err).Msg("encoding /status")
		writeText(w, http.StatusInternalServerError, "cannot encode the status\n")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}
