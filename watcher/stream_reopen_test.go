package watcher

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A transient error reading the stream reopens it after the last change
// read (nothing skipped, nothing twice); any other error stops the watcher.
func TestRunReopensStreamAfterTransientReadError(t *testing.T) {
	tests := []struct {
		name       string
		readErr    error
		wantStop   bool
		wantOpened []string // tokens of the Open calls ("" = no token)
	}{
		{"network error", fmt.Errorf("read change stream: %w", io.ErrUnexpectedEOF), false, []string{"", "t1"}},
		{"permanent error", errors.New("bad thing"), true, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &scriptSource{script: []srcStep{chDelete("t1", "p1"), {err: tt.readErr}, chDelete("t2", "p2")}}
			f := newRunFixture(t, src, func(o *Options) { o.Retry = RetryPolicy{InitialBackoff: 1, MaxBackoff: 1} })
			err := f.run(t)
			if stopped := err != nil; stopped != tt.wantStop {
				t.Fatalf("Run = %v, want stop %v", err, tt.wantStop)
			}
			src.mu.Lock()
			var opened []string
			for _, tok := range src.opened {
				opened = append(opened, tokName(bson.Raw(tok)))
			}
			src.mu.Unlock()
			if fmt.Sprint(opened) != fmt.Sprint(tt.wantOpened) {
				t.Fatalf("opened at %q, want %q", opened, tt.wantOpened)
			}
			want := "t2"
			if tt.wantStop {
				want = "t1"
			}
			if got := f.savedToken(); got != want {
				t.Fatalf("saved %q, want %q", got, want)
			}
		})
	}
}
