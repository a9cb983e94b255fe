package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/projectwatcher/watcher/reconcile"
	"github.com/rs/zerolog"
)

func TestProgressReports(t *testing.T) {
	tests := []struct {
		name  string
		make  func(buf *bytes.Buffer) reconcile.Progress
		wants []string
	}{
		{"bar with a total", func(buf *bytes.Buffer) reconcile.Progress { return newBarProgress(buf) },
			[]string{"storyboards", "600/600", "docs/s"}},
		{"log lines", func(buf *bytes.Buffer) reconcile.Progress { return newLogProgress(zerolog.New(buf)) },
			[]string{`"collection":"storyboards"`, `"documents":600`, `"component":"reconcile"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := tt.make(&buf)
			p.Start("storyboards", 600)
			p.Add(300)
			p.Add(300)
			p.Done(reconcile.CollectionSummary{Collection: "storyboards", Scanned: 600})
			out := buf.String()
			for _, want := range tt.wants {
				if !strings.Contains(out, want) {
					t.Errorf("progress output lacks %q:\n%q", want, out)
				}
			}
		})
	}
}
