package bus

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/watcher"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Reasons of the dead letters only the bus makes (the others are direct
// mode's, event.Reason*).
const (
	// ReasonDeliveryAttempts: Pub/Sub delivered the message
	// bus.maxDeliveryAttempts times and no worker answered it (workers
	// crashed or stopped on it); Pub/Sub moved it to the dead-letter
	// topic, and a worker moved it into the dead-letter collection.
	ReasonDeliveryAttempts = "delivery-attempts-exceeded"
	// ReasonInvalidMessage: the message body is not an event this worker
	// reads (docs/EVENTS.md); it cannot be retried, only purged.
	ReasonInvalidMessage = "invalid-message"
)

// Pub/Sub's attribute on a dead-lettered message: the deliveries made.
const attrDeadLetterDeliveries = "CloudPubSubDeadLetterSourceDeliveryCount"

// bodyExcerpt bounds the body an invalid message's dead letter quotes.
const bodyExcerpt = 2000

// parkAttempts bounds the tries of one dead-letter write.
const parkAttempts = 3

// letter is the dead letter of msg's event: the id is the event's, so the
// leader and any number of workers parking the same event keep one.
func letter(msg Message, reason string, err error, attempts int, first, last time.Time) event.DeadLetter {
	ev := msg.Event
	l := event.DeadLetter{
		ID: msg.ID, Kind: ev.Kind.String(), ProjectID: ev.ProjectID, Op: ev.Op,
		Set: ev.Set, Unset: ev.Unset, ClusterTime: ev.ClusterTime, WallTime: ev.WallTime,
		Reason: reason, Error: err.Error(), Attempts: attempts, FirstFailedAt: first, LastFailedAt: last,
	}
	if ev.DocumentID.Type != 0 {
		if key, merr := bson.Marshal(bson.D{{Key: "_id", Value: ev.DocumentID}}); merr == nil {
			l.DocumentKey = key
		}
	}
	return l
}

// invalidLetter parks a message that is no event: what it holds is
// quoted in the error, for a human.
func invalidLetter(m *pubsub.Message, err error, at time.Time) event.DeadLetter {
	body := string(m.Data)
	if len(body) > bodyExcerpt {
		body = body[:bodyExcerpt] + "…"
	}
	return event.DeadLetter{
		ID: "bus-" + m.ID, Kind: "unknown", Reason: ReasonInvalidMessage,
		Error:    fmt.Sprintf("%v; Pub/Sub message %s, attributes %v, body %q", err, m.ID, m.Attributes, body),
		Attempts: max(deliveryAttempt(m), 1), FirstFailedAt: at, LastFailedAt: at,
	}
}

// park writes l to the dead-letter collection, retrying transient
// failures; false when it could not (the message then comes again).
func (w *Worker) park(ctx context.Context, l event.DeadLetter) bool {
	for n := 1; ; n++ {
		err := w.o.DeadLetters.Add(ctx, l)
		if err == nil {
			return true
		}
		if ctx.Err() != nil || !watcher.IsTransient(err) || n >= parkAttempts {
			w.log.Error().Err(err).Str("projectId", l.ProjectID).Str("reason", l.Reason).Str("eventId", l.ID).
				Msg("the failed event could not be written to the dead-letter collection; nacked, it comes again")
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.o.Retry.Delay(n)):
		}
	}
}

// onDead is the callback of the dead-letter topic's subscription: each
// message Pub/Sub gave up on is moved into the dead-letter collection, so
// that "watcher dlq list|retry|purge", the dead-letter metric and its
// alert cover both.
func (w *Worker) onDead(ctx context.Context) func(context.Context, *pubsub.Message) {
	return func(rctx context.Context, m *pubsub.Message) {
		if rctx.Err() != nil {
			m.Nack()
			return
		}
		now := time.Now()
		deliveries := w.o.MaxDeliveryAttempts
		if n, err := strconv.Atoi(m.Attributes[attrDeadLetterDeliveries]); err == nil && n > 0 {
			deliveries = n
		}
		var l event.DeadLetter
		msg, err := Decode(m.Data)
		if err != nil {
			l = invalidLetter(m, err, now)
		} else {
			cause := fmt.Errorf("Pub/Sub delivered the event %d times (bus.maxDeliveryAttempts) and no worker answered: "+
				"workers crashed or stopped while applying it (first published %s)", deliveries, m.PublishTime.UTC().Format(time.RFC3339))
			l = letter(msg, ReasonDeliveryAttempts, cause, deliveries, m.PublishTime, now)
		}
		if !w.park(ctx, l) {
			m.Nack()
			return
		}
		w.o.Observer.DeadLetterMoved()
		w.o.Failures.EventDeadLettered(msg.Event.Kind, l.Reason)
		w.log.Error().Str("projectId", l.ProjectID).Str("kind", l.Kind).Str("eventId", l.ID).Str("reason", l.Reason).
			Int("attempts", l.Attempts).Msg("event dead-lettered by Pub/Sub, moved into the dead-letter collection; see \"watcher dlq list\"")
		m.Ack()
	}
}
