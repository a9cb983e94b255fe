package health

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/clocktest"
	"github.com/rs/zerolog"
)

func TestHealthz(t *testing.T) {
	const window = 30 * time.Second
	tests := []struct {
		name       string
		beats      []time.Time // clock at each Beat
		probeAt    time.Time
		wantStatus int
		wantBody   string
	}{
		{name: "fresh start without beat", probeAt: t0.Add(5 * time.Second), wantStatus: http.StatusOK, wantBody: "no heartbeat yet"},
		{name: "no beat past the window", probeAt: t0.Add(window + time.Second), wantStatus: http.StatusServiceUnavailable, wantBody: "no heartbeat in 31s since start"},
		{name: "recent beat", beats: []time.Time{t0.Add(40 * time.Second)}, probeAt: t0.Add(50 * time.Second), wantStatus: http.StatusOK, wantBody: "last heartbeat 10s ago"},
		{name: "beat exactly at the window edge", beats: []time.Time{t0}, probeAt: t0.Add(window), wantStatus: http.StatusOK, wantBody: "last heartbeat 30s ago"},
		{name: "stale beat", beats: []time.Time{t0.Add(time.Second)}, probeAt: t0.Add(time.Minute), wantStatus: http.StatusServiceUnavailable, wantBody: "last heartbeat 59s ago (window 30s)"},
		{name: "later beat revives", beats: []time.Time{t0, t0.Add(2 * time.Minute)}, probeAt: t0.Add(2*time.Minute + time.Second), wantStatus: http.StatusOK, wantBody: "last heartbeat 1s ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktest.New(t0)
			s := New("127.0.0.1:0", nil, zerolog.Nop(), WithClock(clk), WithLivenessWindow(window))
			for _, b := range tt.beats {
				clk.Set(b)
				s.Beat()
			}
			clk.Set(tt.probeAt)
			status, body := get(t, s.Handler(), "/healthz")
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", status, tt.wantStatus, body)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", body, tt.wantBody)
			}
		})
	}
}

func TestOptionDefaults(t *testing.T) {
	tests := []struct {
		name       string
		opts       []Option
		wantWindow time.Duration
		wantCheck  time.Duration
	}{
		{name: "defaults", wantWindow: DefaultLivenessWindow, wantCheck: DefaultCheckTimeout},
		{name: "set", opts: []Option{WithLivenessWindow(time.Minute), WithCheckTimeout(time.Second)}, wantWindow: time.Minute, wantCheck: time.Second},
		{name: "non-positive falls back", opts: []Option{WithLivenessWindow(0), WithCheckTimeout(-time.Second)}, wantWindow: DefaultLivenessWindow, wantCheck: DefaultCheckTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(":0", nil, zerolog.Nop(), tt.opts...)
			if s.livenessWindow != tt.wantWindow || s.checkTimeout != tt.wantCheck {
				t.Errorf("window, check timeout = %s, %s; want %s, %s", s.livenessWindow, s.checkTimeout, tt.wantWindow, tt.wantCheck)
			}
		})
	}
}

func TestHealthzLivenessChecks(t *testing.T) {
	stalled := func(context.Context) error { return errors.New("3 events pending, none completed for 5m0s") }
	fine := func(context.Context) error { return nil }
	tests := []struct {
		name       string
		beatAgo    time.Duration
		checks     map[string]func(context.Context) error
		wantStatus int
		wantBody   string
	}{
		{name: "beat and check ok", beatAgo: time.Second, checks: map[string]func(context.Context) error{"stall": fine},
			wantStatus: http.StatusOK, wantBody: "ok: last heartbeat 1s ago (window 30s)\nstall: ok\n"},
		{name: "beat ok, check fails", beatAgo: time.Second, checks: map[string]func(context.Context) error{"stall": stalled},
			wantStatus: http.StatusServiceUnavailable, wantBody: "ok: last heartbeat 1s ago (window 30s)\nstall: error: 3 events pending, none completed for 5m0s\n"},
		{name: "stale beat, check ok", beatAgo: time.Minute, checks: map[string]func(context.Context) error{"stall": fine},
			wantStatus: http.StatusServiceUnavailable, wantBody: "main loop not alive: last heartbeat 1m0s ago (window 30s)\nstall: ok\n"},
		{name: "checks sorted by name", beatAgo: 0, checks: map[string]func(context.Context) error{"b": fine, "a": stalled},
			wantStatus: http.StatusServiceUnavailable, wantBody: "ok: last heartbeat 0s ago (window 30s)\na: error: 3 events pending, none completed for 5m0s\nb: ok\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktest.New(t0)
			s := New(":0", nil, zerolog.Nop(), WithClock(clk), WithLivenessWindow(30*time.Second))
			s.Beat()
			for name, fn := range tt.checks {
				s.AddLivenessCheck(name, fn)
			}
			clk.Set(t0.Add(tt.beatAgo))
			status, body := get(t, s.Handler(), "/healthz")
			if status != tt.wantStatus || body != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", status, body, tt.wantStatus, tt.wantBody)
			}
			// Liveness checks do not leak into readiness.
			if status, body := get(t, s.Handler(), "/readyz"); status != http.StatusOK || body != "ready\n" {
				t.Errorf("/readyz = %d %q, want 200 ready", status, body)
			}
		})
	}
}
