package health

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbeURL(t *testing.T) {
	tests := []struct {
		addr, path string
		want       string
		wantErr    bool
	}{
		{addr: ":8080", path: "/healthz", want: "http://127.0.0.1:8080/healthz"},
		{addr: "0.0.0.0:9090", path: "readyz", want: "http://127.0.0.1:9090/readyz"},
		{addr: "[::]:8080", path: "/healthz", want: "http://[::1]:8080/healthz"},
		{addr: "10.1.2.3:8080", path: "/healthz", want: "http://10.1.2.3:8080/healthz"},
		{addr: "localhost:8080", path: "/metrics", want: "http://localhost:8080/metrics"},
		{addr: ":0", path: "/healthz", wantErr: true},
		{addr: "8080", path: "/healthz", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.addr+tt.path, func(t *testing.T) {
			got, err := ProbeURL(tt.addr, tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ProbeURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string // "" for success
	}{
		{name: "200", status: http.StatusOK, body: "ok"},
		{name: "204", status: http.StatusNoContent},
		{name: "503 carries the body", status: http.StatusServiceUnavailable, body: "main loop not alive\n", wantErr: "503 Service Unavailable: main loop not alive"},
		{name: "404", status: http.StatusNotFound, wantErr: "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			err := Probe(context.Background(), srv.Client(), srv.URL+"/healthz")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Probe: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Probe err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
