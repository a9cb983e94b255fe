package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
)

// Receive settings. A crashed worker's messages come back after at most
// ackExtension (the client extends the deadline of what it holds by at
// most this much at a time).
const (
	ackExtension       = 20 * time.Second
	maxAckHold         = 2 * time.Hour // the longest a worker keeps one message (a giant cleanup)
	outstandingPerSlot = 2
	minOutstanding     = 16
	receiveBackoff     = time.Second
	maxReceiveBackoff  = 30 * time.Second
	receivingAfter     = time.Second // a Receive that has not failed for this long is receiving
)

// Outcomes of a received message (WorkerObserver.MessageDone).
const (
	OutcomeApplied      = "applied"       // applied (or nothing to do); acknowledged
	OutcomeDeadLettered = "dead_lettered" // parked in the dead-letter collection; acknowledged
	OutcomeNacked       = "nacked"        // left for a redelivery (the worker stops, or parking failed)
)

// WorkerObserver is told what a worker does (metrics). Its methods must be
// cheap and safe for concurrent use.
type WorkerObserver interface {
	MessageReceived(kind string, published time.Time, deliveryAttempt int)
	// MessageDone: outcome is one of the Outcome constants; eventTime is
	// the event's MongoDB time (zero when unknown).
	MessageDone(kind, outcome string, took time.Duration, eventTime time.Time)
	Receiving(subscription string, on bool)
	DeadLetterMoved()
}

// WorkerOptions configure NewWorker.
type WorkerOptions struct {
	// Subscription is the ordered subscription of the events; DeadSubscription
	// the subscription of the dead-letter topic, whose messages the worker
	// moves into DeadLetters ("" : it does not).
	Subscription     string
	DeadSubscription string
	Resolver         watcher.ProjectReader   // reads projects on the primary (source.Resolver)
	Applier          watcher.Applier         // the applier chain of direct mode
	DeadLetters      watcher.DeadLetterStore // the dead-letter collection
	Retry            watcher.RetryPolicy     // retries of transient failures, as in direct mode
	// Dependencies tells whether Firestore and MongoDB answer: an attempt
	// that failed while its service answered nothing does not count
	// against Retry's attempts (an outage pauses, as in direct mode).
	// nil: every attempt counts.
	Dependencies watcher.Dependencies
	// Concurrency bounds the events applied at once (sync.workers).
	Concurrency int
	// DrainTimeout bounds the wait for applies in flight once Run's context
	// ends; then they are cancelled and their messages nacked. 0: wait.
	DrainTimeout time.Duration
	// MaxDeliveryAttempts is the subscription's (for the dead letters the
	// dead-letter topic brings).
	MaxDeliveryAttempts int
	Observer            WorkerObserver          // nil: nobody
	Failures            watcher.FailureObserver // retries and dead letters (nil: nobody)
	Logger              zerolog.Logger
	DryRun              bool // the applier writes nothing (logs say so)
}

// Worker receives events from the subscription and applies them: each
// one as `dlq retry` does (an update with the project's current values read
// on the primary, after the existence rules), through the applier chain of
// direct mode, retrying transient failures; it acknowledges a message once
// its writes are committed or it is parked in the dead-letter collection.
// Messages of one project are handed over one at a time in order (the
// subscription is ordered), so a project's events apply in stream order.
type Worker struct {
	c   *pubsub.Client
	o   WorkerOptions
	log zerolog.Logger
	sem chan struct{}

	mu       sync.Mutex
	held     map[*pubsub.Message]time.Time // messages received and not yet answered → publish time
	progress time.Time                     // last completion, or when work became pending after none

	receiving sync.Map // subscription → *atomic.Bool
	lastErr   atomic.Pointer[receiveFailure]
}

type receiveFailure struct {
	subscription string
	err          error
	at           time.Time
}

// NewWorker returns a worker on c.
func NewWorker(c *pubsub.Client, o WorkerOptions) (*Worker, error) {
	var missing []error
	for name, ok := range map[string]bool{"Subscription": o.Subscription != "", "Resolver": o.Resolver != nil,
		"Applier": o.Applier != nil, "DeadLetters": o.DeadLetters != nil} {
		if !ok {
			missing = append(missing, fmt.Errorf("bus: worker: %s is required", name))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	o.Concurrency = max(o.Concurrency, 1)
	if o.Observer == nil {
		o.Observer = nopWorkerObserver{}
	}
	if o.Failures == nil {
		o.Failures = nopFailures{}
	}
	return &Worker{c: c, o: o, log: o.Logger.With().Str("component", "worker").Logger(),
		sem: make(chan struct{}, o.Concurrency), held: map[*pubsub.Message]time.Time{}}, nil
}

// Run receives until ctx ends, then stops taking messages, lets the
// applies in flight finish (at most DrainTimeout; then they are cancelled
// and their messages nacked, for another worker) and returns. Receive
// failures are logged and retried with backoff (Ready reports them).
func (w *Worker) Run(ctx context.Context) error {
	applyCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stopDrain := context.AfterFunc(ctx, func() {
		if w.o.DrainTimeout > 0 {
			time.AfterFunc(w.o.DrainTimeout, cancel)
		}
	})
	defer stopDrain()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.receiveLoop(ctx, w.o.Subscription, w.onEvent(applyCtx))
	}()
	if w.o.DeadSubscription != "" && !w.o.DryRun {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.receiveLoop(ctx, w.o.DeadSubscription, w.onDead(applyCtx))
		}()
	}
	w.log.Info().Str("subscription", w.o.Subscription).Str("deadLetterSubscription", w.o.DeadSubscription).
		Int("concurrency", w.o.Concurrency).Bool("dryRun", w.o.DryRun).Msg("receiving events")
	wg.Wait()
	w.log.Info().Msg("stopped receiving; every message taken is answered")
	return nil
}

// receiveLoop runs Receive on subscription until ctx ends, again after a
// backoff when it fails.
func (w *Worker) receiveLoop(ctx context.Context, subscription string, f func(context.Context, *pubsub.Message)) {
	sub := w.c.Subscriber(subscription)
	sub.ReceiveSettings.MaxOutstandingMessages = max(outstandingPerSlot*w.o.Concurrency, minOutstanding)
	sub.ReceiveSettings.MaxDurationPerAckExtension = ackExtension
	sub.ReceiveSettings.MaxExtension = maxAckHold
	backoff := receiveBackoff
	for ctx.Err() == nil {
		up := time.AfterFunc(receivingAfter, func() { w.setReceiving(subscription, true) })
		err := sub.Receive(ctx, f)
		up.Stop()
		w.setReceiving(subscription, false)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("receive ended without an error")
		}
		w.lastErr.Store(&receiveFailure{subscription: subscription, err: err, at: time.Now()})
		w.log.Error().Err(err).Str("subscription", subscription).Float64("retryInMs", ms(backoff)).
			Msg("receiving from the subscription failed; receiving again after a backoff (does it exist? see watcher bus setup)")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxReceiveBackoff)
	}
}

func (w *Worker) setReceiving(subscription string, on bool) {
	v, _ := w.receiving.LoadOrStore(subscription, &atomic.Bool{})
	v.(*atomic.Bool).Store(on)
	w.o.Observer.Receiving(subscription, on)
	if on {
		w.lastErr.Store(nil)
	}
}

// Ready is the worker's readiness check: the event subscription (and the
// dead-letter one) are being received from.
func (w *Worker) Ready(context.Context) error {
	subs := []string{w.o.Subscription}
	if w.o.DeadSubscription != "" && !w.o.DryRun {
		subs = append(subs, w.o.DeadSubscription)
	}
	for _, s := range subs {
		v, ok := w.receiving.Load(s)
		if ok && v.(*atomic.Bool).Load() {
			continue
		}
		if f := w.lastErr.Load(); f != nil {
			return fmt.Errorf("not receiving from %s: %s: %w", s, f.at.UTC().Format(time.RFC3339), f.err)
		}
		return fmt.Errorf("not receiving from %s yet", s)
	}
	return nil
}

// Progress reports the messages held and when work last progressed (the
// stall watchdog's ProgressFunc).
func (w *Worker) Progress() (inFlight int, last time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.held), w.progress
}

// OldestUnacked is how long ago Pub/Sub received the oldest message this
// worker holds unanswered (0 when it holds none).
func (w *Worker) OldestUnacked() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var oldest time.Time
	for _, at := range w.held {
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	if oldest.IsZero() {
		return 0
	}
	return max(time.Since(oldest), 0)
}

// hold records m as taken; release as answered.
func (w *Worker) hold(m *pubsub.Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.held) == 0 {
		w.progress = time.Now()
	}
	w.held[m] = m.PublishTime
}

func (w *Worker) release(m *pubsub.Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.held, m)
	w.progress = time.Now()
}

type nopWorkerObserver struct{}

func (nopWorkerObserver) MessageReceived(string, time.Time, int)               {}
func (nopWorkerObserver) MessageDone(string, string, time.Duration, time.Time) {}
func (nopWorkerObserver) Receiving(string, bool)                               {}
func (nopWorkerObserver) DeadLetterMoved()                                     {}

type nopFailures struct{}

func (nopFailures) EventRetried(event.Kind, int, time.Duration, error) {}
func (nopFailures) EventDeadLettered(event.Kind, string)               {}
