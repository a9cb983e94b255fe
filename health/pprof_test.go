package health

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestPprof: /debug/pprof/ is served only with WithPprof(true).
func TestPprof(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := New("127.0.0.1:0", nil, zerolog.Nop(), WithPprof(on))
		status, body := get(t, s.Handler(), "/debug/pprof/")
		if on && (status != http.StatusOK || !strings.Contains(body, "goroutine")) {
			t.Errorf("pprof on: %d %q, want the profile index", status, body)
		}
		if !on && status != http.StatusNotFound {
			t.Errorf("pprof off: status %d, want 404", status)
		}
	}
}
