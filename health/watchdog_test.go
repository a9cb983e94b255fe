package health

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/clocktest"
	"github.com/rs/zerolog"
)

func TestWatchdog(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		timeout  time.Duration
		inFlight int
		last     time.Time
		now      time.Time
		wantErr  string
	}{
		{"nothing pending for long is fine", time.Minute, 0, t0, t0.Add(time.Hour), ""},
		{"pending, recent progress", time.Minute, 3, t0, t0.Add(59 * time.Second), ""},
		{"pending exactly at the timeout", time.Minute, 3, t0, t0.Add(time.Minute), ""},
		{"pending, stalled", time.Minute, 3, t0, t0.Add(2 * time.Minute), "stalled: 3 events pending and none completed for 2m0s"},
		{"disabled", 0, 3, t0, t0.Add(time.Hour), ""},
		{"never started", time.Minute, 0, time.Time{}, t0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWatchdog(func() (int, time.Time) { return tt.inFlight, tt.last }, tt.timeout, clocktest.New(tt.now))
			err := w.Check(context.Background())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Check = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Check = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// The watchdog fails /healthz, and /readyz names it when registered there.
func TestWatchdogOnProbes(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clk := clocktest.New(now)
	s := New("127.0.0.1:0", nil, zerolog.Nop(), WithClock(clk))
	s.Beat()
	inFlight, last := 2, now
	w := NewWatchdog(func() (int, time.Time) { return inFlight, last }, time.Minute, clk)
	s.AddLivenessCheck("progress", w.Check)
	s.AddCheck("progress", w.Check)
	h := s.Handler()
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, string(b)
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthy: %d %s", code, body)
	}
	now = now.Add(5 * time.Minute)
	clk.Set(now)
	s.Beat() // the main loop is alive; only the work is stuck
	for _, path := range []string{"/healthz", "/readyz"} {
		code, body := get(path)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "progress: error: stalled: 2 events pending") {
			t.Errorf("%s: %d %q, want 503 naming the progress check", path, code, body)
		}
	}
	last = now
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("after progress: %d %s", code, body)
	}
}
