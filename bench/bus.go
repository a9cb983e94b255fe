package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/projectwatcher/watcher/bus"
)

// busSettings are the -bus knobs: S1 and S6 through the event bus, each
// with every worker count, beside direct mode.
type busSettings struct {
	on      bool
	workers []int
	repeats int
}

// busFlags registers the -bus flags; parse reads -bus-workers after
// flag.Parse.
func busFlags() (s *busSettings, parse func() error) {
	s = &busSettings{}
	var workers string
	flag.BoolVar(&s.on, "bus", false, "also run S1 and S6 in publish mode (the leader publishes to Pub/Sub, worker processes apply); needs PUBSUB_EMULATOR_HOST (make bench-bus starts the emulator)")
	flag.StringVar(&workers, "bus-workers", "1,2,4", "comma-separated worker process counts of -bus")
	flag.IntVar(&s.repeats, "bus-repeats", 1, "repetitions of each -bus run (the median is reported)")
	return s, func() error {
		for _, f := range strings.Split(workers, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return fmt.Errorf("-bus-workers %q: want positive counts", workers)
			}
			s.workers = append(s.workers, n)
		}
		if s.on && os.Getenv(bus.EmulatorEnv) == "" {
			return errors.New("-bus needs the Pub/Sub emulator: run `make bench-bus`, or start one and set " + bus.EmulatorEnv)
		}
		return nil
	}
}

// busResults are scenario name's runs through the bus (S1 and S6; none
// for the others), under the direct model: one result per worker count.
func (b *bench) busResults(ctx context.Context, name string, s *busSettings) ([]result, error) {
	if !s.on || name != "S1" && name != "S6" {
		return nil, nil
	}
	m := b.env.direct()
	var out []result
	for _, n := range s.workers {
		var runs []run
		for rep := 1; rep <= s.repeats; rep++ {
			var r run
			var err error
			if name == "S1" {
				r, err = b.busBurst(ctx, deleteBurst("S1", burstShape), m, n, rep)
			} else {
				r, err = b.busHeadOfLine(ctx, m, n, rep)
			}
			if err == nil {
				err = b.env.emulatorUp()
			}
			if err != nil {
				return out, fmt.Errorf("%s through the bus, %d workers: %w", name, n, err)
			}
			runs = append(runs, r)
		}
		desc := fmt.Sprintf("through Pub/Sub, %d worker process%s", n, map[bool]string{true: "", false: "es"}[n == 1])
		res := summarize(fmt.Sprintf("%s bus×%d", name, n), m.name, desc, runs)
		if name == "S6" {
			res.Description += fmt.Sprintf("; giant cleanup %s", seconds(res.GiantCleanup))
		}
		out = append(out, res)
	}
	return out, nil
}
