package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/lease"
	"github.com/projectwatcher/watcher/metrics"
	"github.com/projectwatcher/watcher/resume"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// instance runs the watcher, alone or under leader election, and knows
// what /readyz and /status report about it.
type instance struct {
	opts      watcher.Options
	newSource func() watcher.ChangeSource
	lease     *lease.Lease       // nil: leases off, this instance always leads
	store     *resume.MongoStore // fenced per term when lease != nil
	lm        *metrics.Leadership
	log       zerolog.Logger

	cur     atomic.Pointer[watcher.Watcher]
	mu      sync.Mutex
	role    lease.Role
	epoch   int64
	lastErr error
}

// newInstance prepares the instance; with lease.enabled it needs the mongo
// resume store (fencing is a conditional write on the checkpoint document).
func newInstance(cfg config.Config, mc *mongo.Client, store resume.Store, opts watcher.Options,
	newSource func() watcher.ChangeSource, lm *metrics.Leadership, log zerolog.Logger) (*instance, error) {
	in := &instance{opts: opts, newSource: newSource, lm: lm, log: log.With().Str("component", "main").Logger()}
	in.opts.Observer = errorRecorder{in}
	if opts.Observer != nil {
		in.opts.Observer = watcher.Observers{opts.Observer, errorRecorder{in}}
	}
	if !cfg.Lease.Enabled {
		in.opts.Store = store
		in.setRole(lease.RoleLeader, 0)
		return in, nil
	}
	ms, ok := store.(*resume.MongoStore)
	if !ok {
		return nil, errors.New(`lease.enabled needs resume.store "mongo": fencing the checkpoint needs a conditional write in MongoDB`)
	}
	owner, err := ownerID()
	if err != nil {
		return nil, err
	}
	l, err := lease.New(lease.Options{
		Collection: mc.Database(cfg.Resume.Database).Collection("leases"),
		Name:       cfg.Resume.Name,
		Owner:      owner,
		TTL:        cfg.Lease.TTL,
		Logger:     log,
	})
	if err != nil {
		return nil, err
	}
	in.lease, in.store = l, ms
	in.setRole(lease.RoleStandby, 0)
	return in, nil
}

// ownerID names this process in the lease: host, pid and a random suffix.
func ownerID() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("lease owner id: %w", err)
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:])), nil
}

func (in *instance) setRole(r lease.Role, epoch int64) {
	in.mu.Lock()
	in.role, in.epoch = r, epoch
	in.mu.Unlock()
	in.lm.SetRole(r, epoch)
}

// Role is the current role and epoch.
func (in *instance) Role() (lease.Role, int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.role, in.epoch
}

// roleName is the /readyz role line.
func (in *instance) roleName() string {
	r, _ := in.Role()
	return string(r)
}

// streamErr is the changeStream readiness check: a standby is ready
// without a stream (it is ready to take over).
func (in *instance) streamErr(ctx context.Context) error {
	if r, _ := in.Role(); r == lease.RoleStandby {
		return nil
	}
	w := in.cur.Load()
	if w == nil {
		return errors.New("the change stream is not open")
	}
	return w.StreamErr(ctx)
}

// current is the running watcher (nil while standing by).
func (in *instance) current() *watcher.Watcher { return in.cur.Load() }

// run runs until ctx ends. Without leases it runs one watcher. With
// leases it stands by until it takes the lease, runs a watcher fenced by
// the term's epoch, and after a lost lease steps down and stands by again
// in the same process (it never keeps processing): no restart needed.
func (in *instance) run(ctx context.Context) error {
	if in.lease == nil {
		return in.runWatcher(ctx, in.opts)
	}
	return in.lease.Lead(ctx, in.setRole, func(term *lease.Term) error {
		fenced, err := resume.NewFenced(in.store, term.Epoch(), func(err error) {
			in.lm.CheckpointRefused()
			term.Lose(err)
		})
		if err != nil {
			return err
		}
		if err := fenced.Claim(term.Context()); err != nil {
			if term.Err() != nil || term.Context().Err() != nil {
				return nil
			}
			return fmt.Errorf("fence the checkpoint with epoch %d: %w", term.Epoch(), err)
		}
		o := in.opts
		o.Store, o.Abort = fenced, term.Lost()
		return in.runWatcher(term.Context(), o)
	})
}

func (in *instance) runWatcher(ctx context.Context, o watcher.Options) error {
	o.Source = in.newSource()
	w, err := watcher.New(o)
	if err != nil {
		return err
	}
	in.cur.Store(w)
	defer in.cur.Store(nil)
	err = w.Run(ctx)
	if abort := o.Abort; abort != nil {
		select {
		case <-abort:
			in.recordError(errors.New("stepped down: the leader lease was lost"))
		default:
		}
	}
	if err != nil {
		in.recordError(err)
	}
	return err
}

// errorRecorder remembers the last failed apply for /status.
type errorRecorder struct{ in *instance }

func (errorRecorder) Heartbeat()                {}
func (errorRecorder) StreamOpen(bool)           {}
func (errorRecorder) ChangeReceived(string)     {}
func (errorRecorder) CheckpointSaved(time.Time) {}
func (r errorRecorder) EventApplied(kind event.Kind, projectID string, _ time.Duration, _ time.Time, _ event.Report, err error) {
	if err != nil {
		r.in.recordError(fmt.Errorf("%s %s: %w", kind, projectID, err))
	}
}

func (in *instance) recordError(err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.lastErr = err
}

// lastError is the last failed apply, watcher stop or lost lease.
func (in *instance) lastError() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.lastErr
}
