package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/projectwatcher/watcher/bus"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/health"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// busPublisher is the leader's side of the event bus (bus.mode publish):
// the events go to Pub/Sub instead of Firestore. nil in direct mode; its
// methods do nothing on nil.
type busPublisher struct {
	client *pubsub.Client
	pub    *bus.Publisher
}

// newBusPublisher opens the publisher when bus.mode is publish. A dry run
// publishes nothing (the workers would write): it applies as a dry run
// here, as in direct mode. direct applies the repairs handed to the
// watcher (they have no resume token and are not published).
func newBusPublisher(cfg config.Config, direct watcher.Applier, reg prometheus.Registerer, log zerolog.Logger) (*busPublisher, error) {
	if cfg.Bus.Mode != config.BusPublish {
		return nil, nil
	}
	if cfg.Safety.DryRun {
		log.Warn().Str("component", "main").Msg("safety.dryRun: bus.mode publish is ignored; the dry run applies here and publishes nothing")
		return nil, nil
	}
	m, err := metrics.NewBusPublish(reg)
	if err != nil {
		return nil, err
	}
	c, err := bus.Dial(context.Background(), cfg.BusProjectID())
	if err != nil {
		return nil, err
	}
	pub := bus.NewPublisher(c, cfg.Bus.Topic, bus.PublisherOptions{Direct: direct, Observer: m, Logger: log})
	log.Info().Str("component", "main").Str("topic", fmt.Sprintf("projects/%s/topics/%s", cfg.BusProjectID(), cfg.Bus.Topic)).
		Msg("bus.mode publish: derived events are published to Pub/Sub; `watcher worker` applies them")
	return &busPublisher{client: c, pub: pub}, nil
}

// use makes the pipeline publish and the readiness check watch it.
func (b *busPublisher) use(p *pipeline, hs *health.Server) {
	if b == nil {
		return
	}
	p.applier = b.pub
	p.dependencies = publishDependencies{pub: b.pub, rest: p.dependencies}
	hs.AddCheck("pubsub", b.pub.Ready)
}

// publishDependencies asks the publisher about a failed publish (is
// Pub/Sub acknowledging anything?) and rest about everything else (the
// resolver's MongoDB reads).
type publishDependencies struct {
	pub  *bus.Publisher
	rest watcher.Dependencies
}

func (d publishDependencies) Answering(err error, since time.Time) bool {
	var pe *bus.PublishError
	if errors.As(err, &pe) || d.rest == nil {
		return d.pub.Answering(err, since)
	}
	return d.rest.Answering(err, since)
}

// close flushes what the client holds and closes it (after the watcher
// stopped).
func (b *busPublisher) close() error {
	if b == nil {
		return nil
	}
	b.pub.Stop()
	if err := b.client.Close(); err != nil {
		return fmt.Errorf("closing the Pub/Sub client: %w", err)
	}
	return nil
}
