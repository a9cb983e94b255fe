package main

import (
	"fmt"
	"strings"

	"github.com/projectwatcher/watcher/fsmeter"
)

// variant is what a burst scenario measures on its copy of the data.
type variant string

const (
	vWatcher    variant = "watcher"     // the real watcher binary
	vWriteFloor variant = "write_floor" // BulkWriters over the known references
	vPlanFloor  variant = "plan_floor"  // the least discovery, then BulkWriters (planfloor.go)
	vBaseline   variant = "baseline"    // one event, one write at a time
)

// allVariants in the order they run.
var allVariants = []variant{vWatcher, vWriteFloor, vPlanFloor, vBaseline}

// code is the variant's letter in Firestore project ids.
func (v variant) code() string {
	switch v {
	case vWriteFloor:
		return "f"
	case vPlanFloor:
		return "p"
	}
	return string(v)[:1]
}

// parseVariants reads the -variants flag ("floor" is the write floor).
func parseVariants(spec string) (map[variant]bool, error) {
	out := map[variant]bool{}
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if s == "floor" {
			s = string(vWriteFloor)
		}
		known := false
		for _, v := range allVariants {
			if string(v) == s {
				out[v], known = true, true
			}
		}
		if !known && s != "" {
			return nil, fmt.Errorf("unknown variant %q", s)
		}
	}
	return out, nil
}

// cost is what one variant asked of Firestore in one run: RPCs (by
// method) and what Firestore's pricing bills for them.
type cost struct {
	RPCs     int            `json:"rpcs"`
	Failed   int            `json:"failed_rpcs,omitempty"` // not OK (a timed-out write may still have been applied)
	Reads    int            `json:"billed_reads"`
	Writes   int            `json:"billed_writes"`
	ByMethod map[string]int `json:"by_method,omitempty"`
}

func costOf(c fsmeter.Counts) cost {
	return cost{RPCs: c.Total(), Failed: c.Failed, Reads: c.Reads, Writes: c.Writes, ByMethod: c.RPCs}
}

// Metric names of the watcher's Firestore counts (metrics.FirestoreCalls).
const (
	rpcsMetric   = "watcher_firestore_rpcs_total"
	readsMetric  = "watcher_firestore_billed_reads_total"
	writesMetric = "watcher_firestore_billed_writes_total"
)

// watcherCost reads the watcher's Firestore counts from a scrape.
func watcherCost(s samples) cost {
	c := cost{ByMethod: map[string]int{},
		Reads: int(s.value(readsMetric)), Writes: int(s.value(writesMetric))}
	for _, smp := range s {
		if smp.name == rpcsMetric {
			c.ByMethod[smp.labels["method"]] += int(smp.value)
			c.RPCs += int(smp.value)
			if smp.labels["code"] != "OK" {
				c.Failed += int(smp.value)
			}
		}
	}
	return c
}

// minus is the cost between an earlier scrape and this one.
func (c cost) minus(before cost) cost {
	out := cost{RPCs: c.RPCs - before.RPCs, Failed: c.Failed - before.Failed, Reads: c.Reads - before.Reads,
		Writes: c.Writes - before.Writes, ByMethod: map[string]int{}}
	for m, n := range c.ByMethod {
		if d := n - before.ByMethod[m]; d != 0 {
			out.ByMethod[m] = d
		}
	}
	return out
}
