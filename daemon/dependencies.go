package daemon

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	mongoevent "go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"google.golang.org/grpc/status"
)

// mongoHealth remembers when MongoDB last answered the client: a command
// that succeeded, or a heartbeat of the driver's monitor. Safe for
// concurrent use.
type mongoHealth struct {
	now        func() time.Time
	lastAnswer atomic.Int64 // unix nanoseconds; 0: never
}

func newMongoHealth() *mongoHealth { return &mongoHealth{now: time.Now} }

func (h *mongoHealth) answered() { h.lastAnswer.Store(h.now().UnixNano()) }

// answeredSince reports whether MongoDB answered at or after t.
func (h *mongoHealth) answeredSince(t time.Time) bool {
	ns := h.lastAnswer.Load()
	return ns != 0 && ns >= t.UnixNano()
}

// monitor sets the client's command and server monitors to feed h.
func (h *mongoHealth) monitor(o *options.ClientOptions) *options.ClientOptions {
	return o.
		SetMonitor(&mongoevent.CommandMonitor{
			Succeeded: func(context.Context, *mongoevent.CommandSucceededEvent) { h.answered() },
		}).
		SetServerMonitor(&mongoevent.ServerMonitor{
			ServerHeartbeatSucceeded: func(*mongoevent.ServerHeartbeatSucceededEvent) { h.answered() },
		})
}

// dependencies implements watcher.Dependencies from what the clients see.
type dependencies struct {
	firestore *fsmeter.Health
	mongo     *mongoHealth
}

var _ watcher.Dependencies = dependencies{}

// Answering reports whether the service err came from answered since t: a
// gRPC status is Firestore's (any RPC that succeeded or answered about the
// data), a driver error MongoDB's (a command that succeeded, a heartbeat);
// for anything else it cannot tell and says yes (the attempt counts).
func (d dependencies) Answering(err error, since time.Time) bool {
	var st interface{ GRPCStatus() *status.Status }
	switch {
	case errors.As(err, &st):
		return d.firestore.AnsweredSince(since)
	case isMongoError(err):
		return d.mongo.answeredSince(since)
	}
	return true
}

// isMongoError tells an error of the MongoDB driver: a server's error, a
// network error or timeout, a disconnected client.
func isMongoError(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) || mongo.IsNetworkError(err) || mongo.IsTimeout(err) ||
		errors.Is(err, mongo.ErrClientDisconnected)
}

// logFirestoreChanges logs when Firestore stops answering (warn, with the
// error) and when it answers again (info): a Health listener.
func logFirestoreChanges(log zerolog.Logger) func(error) {
	log = log.With().Str("component", "firestore").Logger()
	return func(err error) {
		if err != nil {
			log.Warn().Err(err).Msg("Firestore calls are failing: events wait and are retried; /readyz fails until Firestore answers")
			return
		}
		log.Info().Msg("Firestore answers")
	}
}
