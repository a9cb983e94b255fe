package main

import (
	"strings"
	"testing"
)

// Five deletes of 10, 40, 40, 200 ms and one giant of 50 s, and two
// renames: without the giant, the deletes' largest bucket is 0.25 s.
const lagScrape = `
watcher_end_to_end_lag_seconds_bucket{type="ProjectDeleted",le="0.05"} 3
watcher_end_to_end_lag_seconds_bucket{type="ProjectDeleted",le="0.25"} 4
watcher_end_to_end_lag_seconds_bucket{type="ProjectDeleted",le="30"} 4
watcher_end_to_end_lag_seconds_bucket{type="ProjectDeleted",le="60"} 5
watcher_end_to_end_lag_seconds_bucket{type="ProjectDeleted",le="+Inf"} 5
watcher_end_to_end_lag_seconds_count{type="ProjectDeleted"} 5
watcher_end_to_end_lag_seconds_bucket{type="ProjectUpdated",le="0.05"} 2
watcher_end_to_end_lag_seconds_bucket{type="ProjectUpdated",le="0.25"} 2
watcher_end_to_end_lag_seconds_bucket{type="ProjectUpdated",le="30"} 2
watcher_end_to_end_lag_seconds_bucket{type="ProjectUpdated",le="60"} 2
watcher_end_to_end_lag_seconds_bucket{type="ProjectUpdated",le="+Inf"} 2
watcher_end_to_end_lag_seconds_count{type="ProjectUpdated"} 2
`

func TestDropLargestLeavesTheGiantOut(t *testing.T) {
	s, err := parseSamples(strings.NewReader(lagScrape))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.quantile(1, lagHistogram); got <= 30 {
		t.Fatalf("fixture: the maximum with the giant is %v s, want above 30", got)
	}
	d := s.dropLargest(lagHistogram, "type", kindDeleted)
	if got := d.quantile(1, lagHistogram); got > 0.25 {
		t.Errorf("maximum without the giant %v s, want at most 0.25", got)
	}
	if got := d.value(lagHistogram+"_count", "type", kindDeleted); got != 4 {
		t.Errorf("deletes counted %v, want 4", got)
	}
	if got := d.value(lagHistogram+"_count", "type", kindUpdated); got != 2 {
		t.Errorf("renames counted %v, want 2 (untouched)", got)
	}
	if got := s.quantile(1, lagHistogram); got <= 30 {
		t.Errorf("dropLargest changed its receiver (maximum now %v s)", got)
	}
}
