package health

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

func TestMetricsEndpoint(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "watcher_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)

	tests := []struct {
		name       string
		gatherer   prometheus.Gatherer
		wantStatus int
		wantBody   string
	}{
		{name: "registry exposed", gatherer: reg, wantStatus: http.StatusOK, wantBody: "watcher_test_total 3"},
		{name: "no gatherer, no endpoint", gatherer: nil, wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(":0", tt.gatherer, zerolog.Nop())
			status, body := get(t, s.Handler(), "/metrics")
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body does not contain %q:\n%s", tt.wantBody, body)
			}
		})
	}
}

// TestServeRealListener runs the server on 127.0.0.1:0 and probes every
// endpoint over TCP, then checks the graceful stop.
func TestServeRealListener(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "watcher_stream_up", Help: "test"})
	reg.MustRegister(g)
	g.Set(1)

	s := New("127.0.0.1:0", reg, zerolog.Nop(), WithLivenessWindow(time.Hour))
	if s.Addr() != "" {
		t.Fatalf("Addr before Listen = %q, want empty", s.Addr())
	}
	if err := s.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	addr := s.Addr()
	if addr == "" || strings.HasSuffix(addr, ":0") {
		t.Fatalf("Addr = %q, want a bound port", addr)
	}
	var failing atomic.Bool
	failing.Store(true)
	s.AddCheck("firestore", func(context.Context) error {
		if failing.Load() {
			return context.DeadlineExceeded
		}
		return nil
	})

	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	t.Cleanup(cancel)

	probe := func(path string) error {
		t.Helper()
		u, err := ProbeURL(addr, path)
		if err != nil {
			t.Fatalf("ProbeURL: %v", err)
		}
		pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer pcancel()
		return Probe(pctx, nil, u)
	}
	s.Beat()
	if err := probe("/healthz"); err != nil {
		t.Errorf("/healthz: %v", err)
	}
	if err := probe("/metrics"); err != nil {
		t.Errorf("/metrics: %v", err)
	}
	err := probe("/readyz")
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "firestore: error") {
		t.Errorf("/readyz while failing: err = %v, want 503 naming firestore", err)
	}
	failing.Store(false)
	if err := probe("/readyz"); err != nil {
		t.Errorf("/readyz once passing: %v", err)
	}

	if err := s.Serve(ctx); err == nil {
		t.Error("second Serve: want error")
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if err := probe("/healthz"); err == nil {
		t.Error("probe after shutdown succeeded, want connection error")
	}
}

func TestListenErrors(t *testing.T) {
	busy := New("127.0.0.1:0", nil, zerolog.Nop())
	if err := busy.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- busy.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	tests := []struct {
		name string
		addr string
	}{
		{name: "port in use", addr: busy.Addr()},
		{name: "malformed address", addr: "127.0.0.1:notaport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.addr, nil, zerolog.Nop())
			if err := s.Serve(context.Background()); err == nil {
				t.Errorf("Serve(%q): want error", tt.addr)
			}
		})
	}
}
