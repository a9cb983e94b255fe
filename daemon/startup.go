package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/projectwatcher/watcher/logging"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Start-up attempts to reach MongoDB: each waits this long for the
// primary, the next starts after the pause.
const (
	mongoAttemptTimeout = 2 * time.Second
	mongoAttemptPause   = time.Second
)

// waitForMongo pings the primary until it answers, logging every failed
// attempt with its reason, for at most mongo.startupTimeout; then it fails
// with one message naming the redacted URI, the limit and the last reason.
// It beats the liveness probe while it waits. It returns ctx's error when
// ctx ends first.
func (r *running) waitForMongo(ctx context.Context) error {
	cfg := r.cfg.Mongo
	uri := logging.RedactURI(cfg.URI)
	r.log.Info().Str("uri", uri).Stringer("startupTimeout", cfg.StartupTimeout).Msg("connecting to MongoDB " + uri)
	start := time.Now()
	deadline := start.Add(cfg.StartupTimeout)
	for attempt := 1; ; attempt++ {
		r.hs.Beat()
		actx, cancel := context.WithTimeout(ctx, min(mongoAttemptTimeout, max(time.Until(deadline), time.Millisecond)))
		err := r.d.mongo.Ping(actx, readpref.Primary())
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			r.log.Info().Int("attempts", attempt).Int64("durationMs", time.Since(start).Milliseconds()).Msg("connected to MongoDB")
			return nil
		}
		reason := errors.New(scrubURIError(err.Error(), cfg.URI))
		if refusedCredentials(err) { // waiting cannot fix it
			return fmt.Errorf("MongoDB at %s refused the credentials (check the user and password of mongo.uri or mongo.uriFile, and authSource): %w",
				uri, reason)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("MongoDB at %s did not answer within mongo.startupTimeout (%s), %d attempts: %w",
				uri, cfg.StartupTimeout, attempt, reason)
		}
		r.state.recordError(fmt.Errorf("connecting to MongoDB: %w", reason))
		r.log.Warn().Err(reason).Int("attempt", attempt).Stringer("retryIn", mongoAttemptPause).
			Stringer("giveUpIn", time.Until(deadline).Round(time.Second)).Msg("MongoDB does not answer yet; retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(mongoAttemptPause):
		}
	}
}

// refusedCredentials reports an authentication failure (the server's
// AuthenticationFailed, code 18, as the driver reports it during the
// connection handshake).
func refusedCredentials(err error) bool {
	var se mongo.ServerError
	if errors.As(err, &se) && se.HasErrorCode(18) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "auth error") || strings.Contains(msg, "AuthenticationFailed")
}
