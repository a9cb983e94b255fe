package bus

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Publish settings. A publish waits for Pub/Sub's answer before the next
// event of its project goes, so the batching delay is short: it only
// gathers the publishes of different projects made at the same moment.
const (
	publishDelay      = 2 * time.Millisecond
	publishTimeout    = 10 * time.Second // the client's own retries of one publish
	defaultInFlight   = 1000
	maxInFlightBytes  = 64 << 20
	maxPublishedBytes = 10_000_000 // Pub/Sub's limit of one message
)

// PublishObserver is told about every publish (metrics). Its methods must
// be cheap and safe for concurrent use.
type PublishObserver interface {
	// PublishStarted: a message was handed to the client; PublishDone: Pub/Sub
	// acknowledged it (err nil) or the publish failed.
	PublishStarted()
	PublishDone(kind event.Kind, took time.Duration, err error)
}

// PublisherOptions configure NewPublisher.
type PublisherOptions struct {
	// Direct applies the events that have no resume token (a repair of
	// reconciliation handed to the watcher): they are not the stream's, so
	// they are not published. nil: such an event fails.
	Direct   watcher.Applier
	Observer PublishObserver // nil: nobody
	Logger   zerolog.Logger
	// MaxInFlight bounds the messages handed to the client and not yet
	// acknowledged (flow control: a publish beyond it blocks). 0: 1000.
	MaxInFlight int
	// Timeout bounds the client's retries of one publish (0: 10 s).
	Timeout time.Duration
}

// Publisher publishes the stream's derived events to the topic, one
// message per event with the project id as ordering key. It implements
// watcher.Applier: Apply returns once Pub/Sub acknowledged the message, so
// the watcher's watermark (and the checkpoint) passes an event only after
// Pub/Sub holds it. It also implements watcher.Dependencies for its own
// failures: while Pub/Sub acknowledges nothing, a failed publish does not
// use up the event's attempts (the stream waits instead of dead-lettering).
type Publisher struct {
	pub    *pubsub.Publisher
	topic  string
	direct watcher.Applier
	obs    PublishObserver
	log    zerolog.Logger

	lastOK  atomic.Int64                   // unix ns of the newest acknowledged publish
	lastErr atomic.Pointer[publishFailure] // the newest failure since then; nil: none
}

type publishFailure struct {
	err error
	at  time.Time
}

var (
	_ watcher.Applier      = (*Publisher)(nil)
	_ watcher.Dependencies = (*Publisher)(nil)
)

// NewPublisher returns a Publisher to topic (an id or a full name) on c.
// Call Stop once the watcher has stopped.
func NewPublisher(c *pubsub.Client, topic string, o PublisherOptions) *Publisher {
	pub := c.Publisher(topic)
	pub.EnableMessageOrdering = true
	pub.PublishSettings.DelayThreshold = publishDelay
	pub.PublishSettings.Timeout = publishTimeout
	if o.Timeout > 0 {
		pub.PublishSettings.Timeout = o.Timeout
	}
	inFlight := o.MaxInFlight
	if inFlight <= 0 {
		inFlight = defaultInFlight
	}
	pub.PublishSettings.FlowControlSettings = pubsub.FlowControlSettings{
		MaxOutstandingMessages: inFlight,
		MaxOutstandingBytes:    maxInFlightBytes,
		LimitExceededBehavior:  pubsub.FlowControlBlock, // a slow Pub/Sub slows the stream, never drops
	}
	obs := o.Observer
	if obs == nil {
		obs = nopPublishObserver{}
	}
	return &Publisher{pub: pub, topic: pub.String(), direct: o.Direct, obs: obs,
		log: o.Logger.With().Str("component", "publisher").Logger()}
}

// Apply publishes ev and waits for Pub/Sub's acknowledgement. A failed
// publish resumes the project's ordering key (the client pauses it) and
// returns a transient *PublishError: the watcher retries the event, and
// the project's later events wait for it, so they are published in order.
func (p *Publisher) Apply(ctx context.Context, ev event.Event) (event.Report, error) {
	if len(ev.Token) == 0 {
		if p.direct == nil {
			return event.Report{}, fmt.Errorf("bus: an event of project %s without a resume token is not published", ev.ProjectID)
		}
		return p.direct.Apply(ctx, ev)
	}
	data, attrs, err := Encode(ev)
	if err != nil {
		return event.Report{}, err
	}
	if len(data) > maxPublishedBytes {
		return event.Report{}, fmt.Errorf("bus: the event of project %s is %d bytes, over Pub/Sub's limit of %d for one message", ev.ProjectID, len(data), maxPublishedBytes)
	}
	start := time.Now()
	p.obs.PublishStarted()
	id, err := p.pub.Publish(ctx, &pubsub.Message{Data: data, Attributes: attrs, OrderingKey: ev.ProjectID}).Get(ctx)
	took := time.Since(start)
	p.obs.PublishDone(ev.Kind, took, err)
	if err != nil {
		p.pub.ResumePublish(ev.ProjectID)
		return event.Report{}, p.failed(ctx, ev, err)
	}
	p.lastOK.Store(time.Now().UnixNano())
	p.lastErr.Store(nil)
	if e := p.log.Debug(); e != nil {
		e.Str("projectId", ev.ProjectID).Str("kind", ev.Kind.String()).Str("eventId", attrs[AttrEventID]).
			Str("messageId", id).Float64("durationMs", ms(took)).Msg("event published")
	}
	return event.Report{}, nil
}

// failed classifies a failed publish of ev.
func (p *Publisher) failed(ctx context.Context, ev event.Event, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("bus: publish of project %s abandoned: %w", ev.ProjectID, ctx.Err())
	}
	if errors.Is(err, pubsub.ErrOversizedMessage) {
		return fmt.Errorf("bus: the event of project %s is too large for one Pub/Sub message: %w", ev.ProjectID, err)
	}
	p.lastErr.Store(&publishFailure{err: err, at: time.Now()})
	p.log.Warn().Err(err).Str("projectId", ev.ProjectID).Str("kind", ev.Kind.String()).Str("topic", p.topic).
		Msg("publish failed; the event is published again after a backoff (the project's later events wait)")
	return &PublishError{Topic: p.topic, ProjectID: ev.ProjectID, Err: err}
}

// Answering implements watcher.Dependencies for publish failures: Pub/Sub
// answered when it acknowledged any publish since t. Other failures count
// as usual.
func (p *Publisher) Answering(err error, since time.Time) bool {
	var pe *PublishError
	if !errors.As(err, &pe) {
		return true
	}
	return p.lastOK.Load() >= since.UnixNano()
}

// Ready is the readiness check of the publishing side: an error while the
// newest publish failed (and none was acknowledged since).
func (p *Publisher) Ready(context.Context) error {
	if f := p.lastErr.Load(); f != nil {
		return fmt.Errorf("publishing to %s fails since %s: %w", p.topic, f.at.UTC().Format(time.RFC3339), f.err)
	}
	return nil
}

// Stop sends what the client still holds and stops its goroutines.
func (p *Publisher) Stop() { p.pub.Stop() }

// PublishError is a publish that Pub/Sub did not acknowledge. It is
// transient for watcher.IsTransient (it reports gRPC Unavailable, whatever
// Pub/Sub answered): the event is retried, never dead-lettered because the
// bus failed. Err is kept, not wrapped, so that a permanent code inside
// does not make it permanent.
type PublishError struct {
	Topic     string
	ProjectID string
	Err       error
}

func (e *PublishError) Error() string {
	return fmt.Sprintf("publish of project %s to %s: %v", e.ProjectID, e.Topic, e.Err)
}

// GRPCStatus makes the error transient for watcher.IsTransient.
func (e *PublishError) GRPCStatus() *status.Status { return status.New(codes.Unavailable, e.Error()) }

// Code is the gRPC code Pub/Sub answered (Unknown for other failures).
func (e *PublishError) Code() codes.Code {
	if errors.Is(e.Err, context.DeadlineExceeded) {
		return codes.DeadlineExceeded
	}
	return status.Code(e.Err)
}

type nopPublishObserver struct{}

func (nopPublishObserver) PublishStarted()                              {}
func (nopPublishObserver) PublishDone(event.Kind, time.Duration, error) {}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
