package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/bus"
	"github.com/projectwatcher/watcher/config"
)

// busYAML is the bus section of the benchmark's config in publish mode,
// on a Pub/Sub project of the run's own (its Firestore project id).
const busYAML = `bus:
  mode: "publish"
  topic: "project-events"
  subscription: "project-events-workers"
  deadLetterTopic: "project-events-dead"
  maxDeliveryAttempts: 5
`

// busGroup is a publishing leader and its worker processes.
type busGroup struct {
	leader  *daemon
	workers []*daemon
}

// startBus creates the run's topics and subscriptions (bus.Setup) and
// starts n workers and a publishing leader, reaching Firestore the way
// model m does (Pub/Sub: PUBSUB_EMULATOR_HOST, directly).
func (e *env) startBus(ctx context.Context, m model, fsProject, mongoDB string, maxDocs, n int, extraEnv ...string) (*busGroup, error) {
	if err := setupBus(ctx, fsProject); err != nil {
		return nil, err
	}
	g := &busGroup{}
	for range n {
		w, err := e.startProc(ctx, "worker", busYAML, m, fsProject, mongoDB, maxDocs, extraEnv...)
		if err != nil {
			g.killIfRunning()
			return nil, err
		}
		g.workers = append(g.workers, w)
	}
	leader, err := e.startProc(ctx, "run", busYAML, m, fsProject, mongoDB, maxDocs, extraEnv...)
	if err != nil {
		g.killIfRunning()
		return nil, err
	}
	g.leader = leader
	return g, nil
}

func setupBus(ctx context.Context, project string) error {
	c, err := bus.Dial(ctx, project)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	cfg := config.Defaults()
	cfg.Bus.Mode = config.BusPublish
	_, err = bus.Setup(ctx, c, project, cfg.Bus, cfg.Retry)
	return err
}

// workerMetrics concatenates the workers' scrapes: values and histograms
// read from it are sums over the workers.
func (g *busGroup) workerMetrics() (samples, error) {
	var all samples
	for _, w := range g.workers {
		s, err := w.metrics()
		if err != nil {
			return nil, err
		}
		all = append(all, s...)
	}
	return all, nil
}

// waitPublished polls the leader until n events of kind are published
// (acknowledged by Pub/Sub: its applier is the publisher).
func (g *busGroup) waitPublished(ctx context.Context, kind string, n int, timeout time.Duration) error {
	return g.leader.waitApplied(ctx, kind, n, timeout)
}

// waitApplied polls the workers until they have applied n events of kind
// between them. A message delivered again (after a lease the emulator let
// expire under load) is applied again: redeliveries are not counted as
// events. Dead-lettered events are an error.
func (g *busGroup) waitApplied(ctx context.Context, kind string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s, err := g.workerMetrics()
		if err != nil {
			return err
		}
		if bad := s.value("watcher_bus_messages_handled_total", "type", kind, "outcome", bus.OutcomeDeadLettered); bad > 0 {
			return fmt.Errorf("%v %s events dead-lettered by the workers:\n%s", bad, kind, g.workers[0].out.String())
		}
		ok := s.value("watcher_bus_messages_handled_total", "type", kind, "outcome", bus.OutcomeApplied) -
			s.value("watcher_bus_redeliveries_total")
		if int(ok) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%v of %d %s events applied by the workers after %s", ok, n, kind, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// cpuSeconds are the CPU seconds of the leader and of the workers together.
func (g *busGroup) cpuSeconds() (leader, workers float64) {
	leader, _ = g.leader.cpuSeconds()
	for _, w := range g.workers {
		v, _ := w.cpuSeconds()
		workers += v
	}
	return leader, workers
}

// peakRSS is the largest peak resident set of one worker.
func (g *busGroup) peakRSS() (int64, error) {
	var peak int64
	for _, w := range g.workers {
		v, err := w.peakRSS()
		if err != nil {
			return 0, err
		}
		peak = max(peak, v)
	}
	return peak, nil
}

// stop stops the leader, then the workers (SIGTERM, clean exits expected).
func (g *busGroup) stop() error {
	var errs []error
	if g.leader != nil {
		errs = append(errs, g.leader.stop())
	}
	for _, w := range g.workers {
		errs = append(errs, w.stop())
	}
	return errors.Join(errs...)
}

func (g *busGroup) killIfRunning() {
	if g.leader != nil {
		g.leader.killIfRunning()
	}
	for _, w := range g.workers {
		w.killIfRunning()
	}
}
