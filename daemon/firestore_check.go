package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/fscall"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// firestoreCheckEvery is the pause between two start-up checks.
const firestoreCheckEvery = 3 * time.Second

// errNotCheckedYet is the readiness answer before the first check ended.
var errNotCheckedYet = errors.New("Firestore start-up check not done yet")

// firestoreCheck is the active check of Firestore at start: a cheap read
// (one document of the first configured collection, under
// firestore.callTimeout), repeated until it succeeds. Until then the
// process is not ready, and every failed check is logged with what it
// says is wrong.
type firestoreCheck struct {
	client *firestore.Client
	cfg    config.Config
	log    zerolog.Logger
	failed func(error) // told of every failed check (for /status)

	mu  sync.Mutex
	err error // nil once a check passed
}

func newFirestoreCheck(client *firestore.Client, cfg config.Config, log zerolog.Logger, failed func(error)) *firestoreCheck {
	return &firestoreCheck{client: client, cfg: cfg, failed: failed, err: errNotCheckedYet,
		log: log.With().Str("component", "main").Logger()}
}

// readiness fails until a check passed.
func (c *firestoreCheck) readiness(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// run checks until a check passes or ctx ends.
func (c *firestoreCheck) run(ctx context.Context) {
	for {
		start := time.Now()
		err := c.once(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			c.set(nil)
			c.log.Info().Int64("durationMs", time.Since(start).Milliseconds()).Msg("Firestore answers: start-up check passed")
			return
		}
		what, hint := explainFirestore(err, c.cfg.Firestore)
		failure := fmt.Errorf("Firestore start-up check failed: %s: %w", what, err)
		c.set(failure)
		c.failed(failure)
		line := c.log.Warn().Err(err).Str("collection", c.collection().Name).Int64("durationMs", time.Since(start).Milliseconds()).
			Stringer("retryIn", firestoreCheckEvery)
		if hint != "" {
			line = line.Str("hint", hint)
		}
		line.Msg("Firestore start-up check failed: " + what + "; not ready until it passes")
		select {
		case <-ctx.Done():
			return
		case <-time.After(firestoreCheckEvery):
		}
	}
}

func (c *firestoreCheck) set(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// collection is the collection the check reads: the first configured.
func (c *firestoreCheck) collection() config.Collection { return c.cfg.Sync.Collections[0] }

// once reads at most one document (its id only) of the collection.
func (c *firestoreCheck) once(ctx context.Context) error {
	coll := c.collection()
	q := c.client.Collection(coll.Name).Query
	if coll.Group {
		q = c.client.CollectionGroup(coll.Name).Query
	}
	ctx, cancel := fscall.New(c.cfg.Firestore.CallTimeout).Unary(ctx)
	defer cancel()
	_, err := q.Select().Limit(1).Documents(ctx).GetAll()
	return fscall.Err(ctx, err)
}

// explainFirestore says what a failed call's error means, and where to
// look.
func explainFirestore(err error, cfg config.Firestore) (what, hint string) {
	where := fmt.Sprintf("firestore.projectId %q, firestore.databaseId %q", cfg.ProjectID, cfg.DatabaseID)
	creds := "the credentials: firestore.credentialsFile, else Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the workload identity)"
	if cfg.CredentialsFile != "" {
		creds = fmt.Sprintf("the credentials in firestore.credentialsFile %q", cfg.CredentialsFile)
	}
	switch status.Code(err) {
	case codes.PermissionDenied:
		return "permission denied", "check " + creds + ": the service account needs roles/datastore.user on the project, " +
			"and the Firestore API must be enabled there (" + where + ")"
	case codes.Unauthenticated:
		return "unauthenticated: Firestore refused the credentials", "check " + creds
	case codes.NotFound:
		return "project or database not found", "check " + where
	case codes.FailedPrecondition:
		return "Firestore refused the query", "check that " + where + " name a Firestore database in Native mode"
	case codes.Unavailable, codes.DeadlineExceeded:
		if host := os.Getenv(emulatorHostEnv); host != "" {
			return "Firestore does not answer", "check that the emulator runs at " + emulatorHostEnv + "=" + host
		}
		return "Firestore does not answer", "check the network path to firestore.googleapis.com"
	}
	return "Firestore call failed", ""
}
