package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/fsfence"
	"github.com/projectwatcher/watcher/lease"
	"github.com/projectwatcher/watcher/resume"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// instance runs the watcher, alone or under leader election: it decides
// each run's checkpoint store and abort channel and takes the rest of the
// options from the pipeline.
type instance struct {
	pipe  *pipeline
	store watcher.TokenStore // the store of a run without leases (a dry run: in memory)
	lease *lease.Lease       // nil: leases off, this instance always leads
	fence *resume.MongoStore // the store each lease term fences (lease != nil)
	// writes lets Firestore writes through only during a term (nil: the
	// client is not fenced).
	writes *fsfence.Fence
	state  *state
	// beside runs beside each run of the watcher, until its context ends
	// with the run (the periodic reconciliation; nil: nothing).
	beside func(ctx context.Context)
}

// newInstance prepares the instance. A dry run keeps its checkpoints in
// memory (it starts at the real checkpoint and never saves) and takes no
// lease. With lease.enabled the checkpoint store must be the mongo one:
// fencing is a conditional write on the checkpoint document.
func newInstance(cfg config.Config, mc *mongo.Client, store resume.Store, writes *fsfence.Fence, pipe *pipeline,
	st *state, log zerolog.Logger) (*instance, error) {
	in := &instance{pipe: pipe, store: store, writes: writes, state: st}
	switch {
	case cfg.Safety.DryRun:
		in.store = watcher.NewMemoryStore(store)
		st.setRole(lease.RoleLeader, 0)
		return in, nil
	case !cfg.Lease.Enabled:
		st.setRole(lease.RoleLeader, 0)
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
	in.lease, in.fence, in.store = l, ms, nil
	st.setRole(lease.RoleStandby, 0)
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

// run runs until ctx ends. Without leases it runs one watcher. With
// leases it stands by until it takes the lease, runs a watcher fenced by
// the term's epoch, and after a lost lease steps down and stands by again
// in the same process (it never keeps processing): no restart needed.
func (in *instance) run(ctx context.Context) error {
	if in.lease == nil {
		return in.runWatcher(ctx, in.soloOptions(), soloEnd)
	}
	return in.lease.Lead(ctx, in.state.setRole, in.runTerm)
}

// soloOptions are the options of the run without leases.
func (in *instance) soloOptions() watcher.Options {
	return in.pipe.watcherOptions(in.store, nil)
}

// runTerm runs the watcher for one lease term. Firestore writes pass the
// fence only while the term allows them (term.Allow, checked before each
// write RPC), and none passes after the run.
func (in *instance) runTerm(term *lease.Term) error {
	if in.writes != nil {
		in.writes.Admit(term)
		defer in.writes.Admit(nil)
	}
	o, ok, err := in.termOptions(term)
	if !ok {
		return err
	}
	return in.runWatcher(term.Context(), o, termEnd(term))
}

// termOptions fences the checkpoint with the term's epoch and returns the
// options of the term's run: the fenced store, aborted when the term is
// lost. ok is false when there is nothing to run: fencing failed (err), or
// the term ended while fencing (nil error).
func (in *instance) termOptions(term *lease.Term) (o watcher.Options, ok bool, err error) {
	fenced, err := resume.NewFenced(in.fence, term.Epoch(), func(err error) {
		in.state.lm.CheckpointRefused()
		term.Lose(err)
	})
	if err != nil {
		return watcher.Options{}, false, err
	}
	if err := fenced.Claim(term.Context()); err != nil {
		if term.Err() != nil || term.Context().Err() != nil {
			return watcher.Options{}, false, nil
		}
		return watcher.Options{}, false, fmt.Errorf("fence the checkpoint with epoch %d: %w", term.Epoch(), err)
	}
	return in.pipe.watcherOptions(fenced, term.Lost()), true, nil
}

// runWatcher runs one watcher with o until ctx ends or it stops, with
// in.beside bound to this run (why says why ctx ended), and records why it
// stopped for /status.
func (in *instance) runWatcher(ctx context.Context, o watcher.Options, why func() error) error {
	w, err := watcher.New(o)
	if err != nil {
		return err
	}
	in.state.cur.Store(w)
	defer in.state.cur.Store(nil)
	stopBeside := in.alongside(ctx, why)
	err = w.Run(ctx)
	stopBeside()
	if abort := o.Abort; abort != nil {
		select {
		case <-abort:
			in.state.recordError(errors.New("stepped down: the leader lease was lost"))
		default:
		}
	}
	if err != nil {
		in.state.recordError(err)
	}
	return err
}
