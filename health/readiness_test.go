package health

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestReadyz(t *testing.T) {
	ok := func(context.Context) error { return nil }
	fail := func(msg string) func(context.Context) error {
		return func(context.Context) error { return errors.New(msg) }
	}
	// respectsCtx waits for its context: it fails with the timeout.
	respectsCtx := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

	tests := []struct {
		name       string
		checks     map[string]func(context.Context) error
		ignoresCtx []string // names of checks that block, ignoring their context
		wantStatus int
		wantLines  []string // in this order; a "*" matches any text
	}{
		{
			name:       "no checks",
			wantStatus: http.StatusOK,
			wantLines:  []string{"ready"},
		},
		{
			name:       "all pass",
			checks:     map[string]func(context.Context) error{"mongo": ok, "changeStream": ok, "firestore": ok},
			wantStatus: http.StatusOK,
			wantLines:  []string{"changeStream: ok", "firestore: ok", "mongo: ok", "ready"},
		},
		{
			name:       "one fails",
			checks:     map[string]func(context.Context) error{"mongo": ok, "changeStream": fail("stream closed"), "firestore": ok},
			wantStatus: http.StatusServiceUnavailable,
			wantLines:  []string{"changeStream: error: stream closed", "firestore: ok", "mongo: ok", "not ready: 1 of 3 checks failing"},
		},
		{
			name:       "multi-line error is one line",
			checks:     map[string]func(context.Context) error{"firestore": fail("last call failed:\n  rpc error: Unavailable")},
			wantStatus: http.StatusServiceUnavailable,
			wantLines:  []string{"firestore: error: last call failed: rpc error: Unavailable", "not ready: 1 of 1 checks failing"},
		},
		{
			name:       "check honouring its timeout",
			checks:     map[string]func(context.Context) error{"mongo": respectsCtx, "firestore": ok},
			wantStatus: http.StatusServiceUnavailable,
			wantLines:  []string{"firestore: ok", "mongo: error: *context deadline exceeded", "not ready: 1 of 2 checks failing"},
		},
		{
			name:       "check ignoring its context is abandoned at the timeout",
			checks:     map[string]func(context.Context) error{"firestore": ok},
			ignoresCtx: []string{"mongo"},
			wantStatus: http.StatusServiceUnavailable,
			wantLines:  []string{"firestore: ok", "mongo: error: check timed out after 50ms: context deadline exceeded", "not ready: 1 of 2 checks failing"},
		},
		{
			name:       "panicking check fails, server survives",
			checks:     map[string]func(context.Context) error{"mongo": func(context.Context) error { panic("nil client") }},
			wantStatus: http.StatusServiceUnavailable,
			wantLines:  []string{"mongo: error: check panicked: nil client", "not ready: 1 of 1 checks failing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(":0", nil, zerolog.Nop(), WithCheckTimeout(50*time.Millisecond))
			for name, fn := range tt.checks {
				s.AddCheck(name, fn)
			}
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			for _, name := range tt.ignoresCtx {
				s.AddCheck(name, func(context.Context) error { <-release; return nil })
			}
			status, body := get(t, s.Handler(), "/readyz")
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			if got := strings.Split(strings.TrimSuffix(body, "\n"), "\n"); !equal(got, tt.wantLines) {
				t.Errorf("body lines = %q, want %q", got, tt.wantLines)
			}
		})
	}
}

// equal matches got against want line by line; a "*" in a wanted line
// matches any text (a check honouring its context may be reported by itself
// or by the timeout, whichever the scheduler picks).
func equal(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		prefix, suffix, wild := strings.Cut(want[i], "*")
		if !wild && got[i] != want[i] {
			return false
		}
		if wild && (!strings.HasPrefix(got[i], prefix) || !strings.HasSuffix(got[i], suffix) || len(got[i]) < len(prefix)+len(suffix)) {
			return false
		}
	}
	return true
}

func TestAddCheckReplacesByName(t *testing.T) {
	s := New(":0", nil, zerolog.Nop())
	s.AddCheck("firestore", func(context.Context) error { return errors.New("last call failed") })
	if status, _ := get(t, s.Handler(), "/readyz"); status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d before replacing, want 503", status)
	}
	s.AddCheck("firestore", func(context.Context) error { return nil })
	status, body := get(t, s.Handler(), "/readyz")
	if status != http.StatusOK || body != "firestore: ok\nready\n" {
		t.Errorf("after replacing: %d %q, want 200 %q", status, body, "firestore: ok\nready\n")
	}
}

func TestReadinessLogsTransitionsWithComponent(t *testing.T) {
	var buf bytes.Buffer
	s := New(":0", nil, zerolog.New(&buf))
	healthy := true
	s.AddCheck("mongo", func(context.Context) error {
		if healthy {
			return nil
		}
		return errors.New("ping failed")
	})
	steps := []struct {
		healthy  bool
		wantLogs int // log lines after this probe
	}{
		{true, 1},  // unknown -> ready
		{true, 1},  // unchanged: no line
		{false, 2}, // ready -> not ready
		{false, 2}, // unchanged
		{true, 3},  // back to ready
	}
	for i, st := range steps {
		healthy = st.healthy
		get(t, s.Handler(), "/readyz")
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != st.wantLogs {
			t.Fatalf("step %d: %d log lines, want %d: %q", i, len(lines), st.wantLogs, lines)
		}
		for _, l := range lines {
			if !strings.Contains(l, `"component":"health"`) {
				t.Errorf("log line without component: %s", l)
			}
		}
	}
	if !strings.Contains(buf.String(), `"check.mongo":"ping failed"`) {
		t.Errorf("not-ready log does not name the failing check: %s", buf.String())
	}
}
