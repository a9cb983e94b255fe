package health

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestStatusEndpoint(t *testing.T) {
	tests := []struct {
		name       string
		provider   StatusFunc
		wantCode   int
		wantFields map[string]any // top-level JSON fields
	}{
		{name: "no provider", wantCode: 404},
		{
			name:     "provider document as JSON",
			provider: func(context.Context) any { return map[string]any{"role": "standby", "epoch": 3} },
			wantCode: 200, wantFields: map[string]any{"role": "standby", "epoch": float64(3)},
		},
		{
			name:     "unencodable document",
			provider: func(context.Context) any { return map[string]any{"bad": make(chan int)} },
			wantCode: 500,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New("127.0.0.1:0", nil, zerolog.Nop())
			if tt.provider != nil {
				s.SetStatus(tt.provider)
			}
			code, body := get(t, s.Handler(), "/status")
			if code != tt.wantCode {
				t.Fatalf("status %d, want %d (body %q)", code, tt.wantCode, body)
			}
			if tt.wantFields == nil {
				return
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			for k, v := range tt.wantFields {
				if doc[k] != v {
					t.Errorf("%s = %v, want %v", k, doc[k], v)
				}
			}
		})
	}
}

func TestReadyzRoleLine(t *testing.T) {
	tests := []struct {
		name     string
		role     func() string
		check    error
		wantCode int
		wantLine string // "" : no role line
	}{
		{name: "no role provider", wantCode: 200},
		{name: "standby is ready", role: func() string { return "standby" }, wantCode: 200, wantLine: "role: standby\n"},
		{name: "leader not ready", role: func() string { return "leader" }, check: errors.New("down"), wantCode: 503, wantLine: "role: leader\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New("127.0.0.1:0", nil, zerolog.Nop())
			s.AddCheck("x", func(context.Context) error { return tt.check })
			if tt.role != nil {
				s.SetRole(tt.role)
			}
			code, body := get(t, s.Handler(), "/readyz")
			if code != tt.wantCode {
				t.Errorf("status %d, want %d", code, tt.wantCode)
			}
			has := strings.Contains(body, "role:")
			if tt.wantLine == "" && has || tt.wantLine != "" && !strings.Contains(body, tt.wantLine) {
				t.Errorf("body %q, want role line %q", body, tt.wantLine)
			}
		})
	}
}
