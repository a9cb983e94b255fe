package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/reconcile"
)

func TestPrintSummary(t *testing.T) {
	sum := reconcile.Summary{
		DryRun:  true,
		Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Seconds: 1.5,
		Collections: []reconcile.CollectionSummary{
			{Collection: "storyboards", Scanned: 120, Orphans: 3, Drifted: 4, Skipped: 2},
			{Collection: "aiAnalyses", Scanned: 7, Invalid: 1},
		},
		Totals:      reconcile.CollectionSummary{Collection: "total", Scanned: 127, Orphans: 3, Drifted: 4, Skipped: 2, Invalid: 1},
		InvalidDocs: []string{"aiAnalyses/bad"},
		Skips:       []string{"updating project p1 (storyboards): project-exists: a twin lives"},
	}
	tests := []struct {
		name  string
		json  bool
		check func(t *testing.T, out string)
	}{
		{"table", false, func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			wantFields := [][]string{
				{"COLLECTION", "SCANNED", "ORPHANS", "DRIFTED", "REPAIRED", "SKIPPED", "INVALID", "ID"},
				{"storyboards", "120", "3", "4", "0", "2", "0"},
				{"aiAnalyses", "7", "0", "0", "0", "0", "1"},
				{"total", "127", "3", "4", "0", "2", "1"},
			}
			for i, want := range wantFields {
				if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("line %d = %q, want fields %v", i, lines[i], want)
				}
			}
			for _, want := range []string{"dry run: nothing was changed", "invalid project id: aiAnalyses/bad",
				"skipped: updating project p1 (storyboards): project-exists: a twin lives", "took 1.5s"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		}},
		{"json", true, func(t *testing.T, out string) {
			var got reconcile.Summary
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if got.Totals.Orphans != 3 || len(got.Collections) != 2 || got.Collections[1].Invalid != 1 || !got.DryRun ||
				got.Totals.Skipped != 2 || len(got.Skips) != 1 {
				t.Errorf("decoded %+v", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := printSummary(&buf, sum, tt.json); err != nil {
				t.Fatal(err)
			}
			tt.check(t, buf.String())
		})
	}
}
