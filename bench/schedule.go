package main

import (
	"context"
	"fmt"
	"strings"
)

// scheduler runs the scenarios asked for, each under every model (S5
// directly only), in the order asked.
type scheduler struct {
	b     *bench
	order []string
	want  map[string]bool
	// idleDone delivers S5's runs when they were started beside S3.
	idleDone chan idleResult
}

type idleResult struct {
	runs []run
	err  error
}

func newScheduler(b *bench, only string) *scheduler {
	s := &scheduler{b: b, want: map[string]bool{}}
	for _, name := range strings.Split(only, ",") {
		name = strings.ToUpper(strings.TrimSpace(name))
		if name != "" {
			s.order = append(s.order, name)
			s.want[name] = true
		}
	}
	return s
}

// run measures one scenario: one result per model (S6: S6 and S6c each).
func (s *scheduler) run(ctx context.Context, name string) ([]result, error) {
	b := s.b
	switch name {
	case "S1", "S2", "S4":
		return s.bursts(ctx, name)
	case "S3":
		s.startIdleBesideS3(ctx)
		desc := fmt.Sprintf("latency (%d events/s of deletes and renames for %s)", b.cfg.s3Rate, b.cfg.s3Duration)
		return s.perModel(name, desc, func(m model, rep int) (run, error) {
			if rep == 1 {
				if err := b.latencyWarmUp(ctx, m); err != nil {
					return run{}, err
				}
			}
			return b.latency(ctx, m, rep, b.cfg.s3Duration)
		}, b.cfg.repeats)
	case "S5":
		runs, err := s.idleRuns(ctx)
		if err != nil {
			return nil, err
		}
		return []result{summarize(name, modelDirect, fmt.Sprintf("idle for %s", b.cfg.s5Duration), runs)}, nil
	case "S6":
		return s.headOfLine(ctx)
	}
	return nil, fmt.Errorf("unknown scenario %q (want S1..S6)", name)
}

func (s *scheduler) bursts(ctx context.Context, name string) ([]result, error) {
	b := s.b
	sc, reps := deleteBurst("S1", burstShape), b.cfg.repeats
	switch name {
	case "S2":
		sc = renameBurst("S2", burstShape)
	case "S4":
		sc, reps = giant(b.cfg.s4Assets), b.cfg.s4Repeats
	}
	return s.perModel(name, sc.desc, func(m model, rep int) (run, error) {
		return b.runBurst(ctx, sc, m, rep)
	}, reps)
}

// perModel runs measure reps times under each model.
func (s *scheduler) perModel(name, desc string, measure func(model, int) (run, error), reps int) ([]result, error) {
	var out []result
	for _, m := range s.b.env.models {
		var runs []run
		for rep := 1; rep <= reps; rep++ {
			r, err := measure(m, rep)
			if err == nil {
				err = s.b.env.emulatorUp()
			}
			if err != nil {
				return out, fmt.Errorf("%s %s: %w", name, m.name, err)
			}
			runs = append(runs, r)
		}
		out = append(out, summarize(name, m.name, desc, runs))
	}
	return out, nil
}

func (s *scheduler) headOfLine(ctx context.Context) ([]result, error) {
	b := s.b
	c := b.cfg.s6
	desc := fmt.Sprintf("head of line (%g small events/s for %s; the %d-asset project deleted %s in)", c.rate, c.duration, c.assets, c.deleteAt)
	descC := fmt.Sprintf("control of S6 (the same load and data; the %d-asset project kept)", c.assets)
	var out []result
	for _, m := range b.env.models {
		var controls, runs []run
		for rep := 1; rep <= b.cfg.repeats; rep++ {
			control, r, err := b.headOfLine(ctx, m, rep)
			if err == nil {
				err = b.env.emulatorUp()
			}
			if err != nil {
				return out, fmt.Errorf("S6 %s: %w", m.name, err)
			}
			controls, runs = append(controls, control), append(runs, r)
		}
		out = append(out, summarize("S6", m.name, desc, runs), summarize("S6c", m.name, descC, controls))
	}
	return out, nil
}

// startIdleBesideS3 starts S5's idle watchers when S5 is asked for too:
// they only cost wall time.
func (s *scheduler) startIdleBesideS3(ctx context.Context) {
	if !s.want["S5"] || s.idleDone != nil {
		return
	}
	s.idleDone = make(chan idleResult, 1)
	go func() {
		runs, err := s.b.idle(ctx, s.b.cfg.repeats)
		s.idleDone <- idleResult{runs, err}
	}()
}

func (s *scheduler) idleRuns(ctx context.Context) ([]run, error) {
	if s.idleDone != nil {
		res := <-s.idleDone
		return res.runs, res.err
	}
	return s.b.idle(ctx, s.b.cfg.repeats)
}
