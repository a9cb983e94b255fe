package main

import (
	"fmt"
	"math"
	"strings"
)

// markdown renders the results tables and the environment.
func (r report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s; Firestore emulator %s; MongoDB: %s.\n",
		r.Started.Format("2006-01-02 15:04 MST"), r.Machine, r.Emulator, r.Mongo)
	fmt.Fprintf(&b, "Each value is the median of %d runs; the whole run took %.0f s. Command: `%s`.\n",
		r.Repeats, r.DurationSeconds, r.Command)
	if r.OneWayDelayMs > 0 {
		fmt.Fprintf(&b, "Model `direct`: every client talks to the emulator; `%s`: every client (watcher, floors, baseline) "+
			"talks to it through a loopback proxy that holds each direction's bytes for %.0f ms.\n", rttName(msDuration(r.OneWayDelayMs)), r.OneWayDelayMs)
	}
	b.WriteString("\n| scenario | model | watcher | write floor | plan floor | baseline | watcher/plan floor | watcher/write floor | baseline/watcher | peak RSS |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Results {
		baseline := seconds(s.Baseline)
		if s.BaselineEstimated && s.Baseline != 0 {
			baseline = "≈ " + baseline + " (extrapolated)"
		}
		fmt.Fprintf(&b, "| %s: %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Scenario, s.Description, s.Model,
			r.watcherCell(s), seconds(s.WriteFloor), seconds(s.PlanFloor), baseline,
			ratio(s.Watcher, s.PlanFloor), ratio(s.Watcher, s.WriteFloor), ratio(s.Baseline, s.Watcher), mib(s.PeakRSS))
	}
	r.costTable(&b)
	r.methodTable(&b)
	r.cpuTable(&b)
	r.probeTable(&b)
	r.profileBlocks(&b)
	return b.String()
}

// watcherCell is the watcher's figure: seconds, lag percentiles, or idle CPU.
func (r report) watcherCell(s result) string {
	switch {
	case s.P99 != 0:
		cell := fmt.Sprintf("p50 %.0f ms, p95 %.0f ms, p99 %.0f ms (apply p50 %.0f ms, p99 %.0f ms)", s.P50, s.P95, s.P99, s.ApplyP50, s.ApplyP99)
		if c, ok := r.find("S6c", s.Model); ok && s.Scenario == "S6" {
			cell += fmt.Sprintf(" (p99 %s S6c's; giant cleanup %s)", ratio(s.P99, c.P99), seconds(s.GiantCleanup))
		}
		return cell
	case s.Watcher == 0 && s.WatcherCPU != 0:
		return fmt.Sprintf("%.3f CPU s", s.WatcherCPU)
	}
	return seconds(s.Watcher)
}

func (r report) find(scenario, model string) (result, bool) {
	for _, s := range r.Results {
		if s.Scenario == scenario && s.Model == model {
			return s, true
		}
	}
	return result{}, false
}

// costTable: what each variant asked of Firestore.
func (r report) costTable(b *strings.Builder) {
	b.WriteString("\nCost: RPCs, and the reads and writes Firestore bills for them (its pricing rules, counted by `fsmeter`); " +
		"these do not depend on the machine.\n\n")
	b.WriteString("| scenario | model | RPCs: watcher | plan floor | write floor | baseline | watcher/plan floor | billed reads: watcher / plan floor / baseline | billed writes: watcher / plan floor / baseline |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Results {
		if len(s.RPCs) == 0 {
			continue
		}
		watcher := count(s.RPCs, vWatcher)
		if n := s.FailedRPCs[vWatcher]; n > 0 {
			watcher += fmt.Sprintf(" (%d failed)", n)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s / %s / %s |\n", s.Scenario, s.Model,
			watcher, count(s.RPCs, vPlanFloor), count(s.RPCs, vWriteFloor), count(s.RPCs, vBaseline),
			ratio(float64(s.RPCs[vWatcher]), float64(s.RPCs[vPlanFloor])),
			count(s.BilledReads, vWatcher), count(s.BilledReads, vPlanFloor), count(s.BilledReads, vBaseline),
			count(s.BilledWrites, vWatcher), count(s.BilledWrites, vPlanFloor), count(s.BilledWrites, vBaseline))
	}
}

// methodTable: the RPCs of the bursts by method, per variant.
func (r report) methodTable(b *strings.Builder) {
	bursts := map[string]bool{"S1": true, "S2": true, "S4": true}
	methods := r.methodsOf(bursts)
	if len(methods) == 0 {
		return
	}
	b.WriteString("\nRPCs by method (bursts):\n\n| scenario | model | variant | " + strings.Join(methods, " | ") + " |\n|---|---|---|")
	b.WriteString(strings.Repeat("---|", len(methods)) + "\n")
	for _, s := range r.Results {
		if !bursts[s.Scenario] {
			continue
		}
		for _, v := range allVariants {
			ms, ok := s.RPCsByMethod[v]
			if !ok {
				continue
			}
			fmt.Fprintf(b, "| %s | %s | %s |", s.Scenario, s.Model, strings.ReplaceAll(string(v), "_", " "))
			for _, m := range methods {
				fmt.Fprintf(b, " %s |", count(ms, m))
			}
			b.WriteString("\n")
		}
	}
}

// cpuTable: where the time goes, by CPU seconds.
func (r report) cpuTable(b *strings.Builder) {
	b.WriteString("\nCPU seconds of the emulator during each variant (the work it asks of the backend) and of the watcher process itself:\n\n")
	b.WriteString("| scenario | model | emulator: watcher | emulator: plan floor | emulator: write floor | emulator: baseline | watcher process |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, s := range r.Results {
		if len(s.EmulatorCPU) == 0 {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", s.Scenario, s.Model, cpuSec(s.EmulatorCPU[vWatcher]),
			cpuSec(s.EmulatorCPU[vPlanFloor]), cpuSec(s.EmulatorCPU[vWriteFloor]), cpuSec(s.EmulatorCPU[vBaseline]), cpuSec(s.WatcherCPU))
	}
}

func (r report) probeTable(b *strings.Builder) {
	if len(r.Probe) == 0 {
		return
	}
	b.WriteString("\nWhat one call costs the backend as the collection grows (median of 9, ms; 1 in 10 documents per project):\n\n")
	b.WriteString("| documents in the collection | query projectId == x (10 results) | query projectId in [10 ids] (100 results) | list a document's subcollections | get a document |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, p := range r.Probe {
		fmt.Fprintf(b, "| %d | %.1f | %.1f | %.1f | %.1f |\n", p.Documents, p.EqualQuery, p.InQuery, p.ListColls, p.Get)
	}
}

func (r report) profileBlocks(b *strings.Builder) {
	for _, s := range r.Results {
		for _, kind := range profileKinds {
			top, ok := r.Profiles[fmt.Sprintf("%s %s %s", s.Scenario, s.Model, kind.name)]
			if !ok {
				continue
			}
			fmt.Fprintf(b, "\nWatcher %s profile, first %d s of %s's first run under %s (`go tool pprof -top`; file: profiles/%s-%s-watcher.%s.pprof):\n\n```\n%s\n```\n",
				kind.name, profileSeconds, s.Scenario, s.Model, s.Scenario, s.Model, kind.name, top)
		}
	}
}

func seconds(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f s", v)
}

func cpuSec(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f s", v)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 || math.IsNaN(a/b) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func mib(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MiB", v)
}

// count formats m[k], or "—" when absent.
func count[K comparable](m map[K]int, k K) string {
	v, ok := m[k]
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%d", v)
}
