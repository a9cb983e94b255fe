package fsmeter

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrNoAnswerYet is Health's error before any RPC answered.
var ErrNoAnswerYet = errors.New("Firestore has not answered yet")

// Failing reports whether an RPC that ended with code says that Firestore
// is failing the client: Unavailable, DeadlineExceeded (the caller's
// firestore.callTimeout included), PermissionDenied,
// Unauthenticated, ResourceExhausted, Internal, Unknown, NotFound, …
//
// Answers about the data are not failures: OK, AlreadyExists,
// FailedPrecondition, InvalidArgument, OutOfRange and Aborted (a
// transaction's contention). NotFound at the level of an RPC is a failure:
// the methods the watcher calls (queries, listings, BatchWrite) never
// answer it about a document (a write's own NotFound is a status inside a
// BatchWrite that succeeded); it says the project or the database does not
// exist. Canceled is neither: the caller gave up.
func Failing(code codes.Code) bool {
	switch code {
	case codes.OK, codes.Canceled, codes.AlreadyExists, codes.FailedPrecondition, codes.InvalidArgument,
		codes.OutOfRange, codes.Aborted:
		return false
	}
	return true
}

// FailingCodes are the codes Failing is true for, in code order.
func FailingCodes() []codes.Code {
	var out []codes.Code
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if Failing(c) {
			out = append(out, c)
		}
	}
	return out
}

// Health follows whether Firestore answers, from how every RPC of the
// client ends (it is an Observer): up while RPCs succeed or answer about
// the data, down with the error from the first failing RPC (see Failing)
// until one answers again; RPCs the caller cancelled change nothing.
// Before any RPC answered it is down with ErrNoAnswerYet. Safe for
// concurrent use.
type Health struct {
	now func() time.Time

	mu         sync.Mutex
	err        error     // nil: up
	downSince  time.Time // when err was first seen (zero before any answer)
	lastAnswer time.Time // zero: never
	listeners  []func(err error)
}

// NewHealth returns a Health, down with ErrNoAnswerYet until an RPC
// answers.
func NewHealth() *Health {
	return &Health{now: time.Now, err: ErrNoAnswerYet}
}

// OnChange adds fn to what is called, outside the lock and in the order
// added, whenever Health goes down (with the error; not for the failures
// before the first answer) or up (nil).
func (h *Health) OnChange(fn func(err error)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.listeners = append(h.listeners, fn)
}

// Finished implements Observer.
func (h *Health) Finished(method string, err error) {
	code := status.Code(err)
	if code == codes.Canceled {
		return
	}
	failing := Failing(code)
	h.mu.Lock()
	now := h.now()
	wasUp := h.err == nil
	var changed bool
	if failing {
		if wasUp || errors.Is(h.err, ErrNoAnswerYet) {
			h.downSince = now
		}
		h.err = fmt.Errorf("%s: %w", method, err)
		changed = wasUp
	} else {
		h.err, h.lastAnswer = nil, now
		changed = !wasUp
	}
	var cur error
	if h.err != nil {
		cur = fmt.Errorf("Firestore calls failing: %w", h.err)
	}
	listeners := h.listeners
	h.mu.Unlock()
	if !changed {
		return
	}
	for _, fn := range listeners {
		fn(cur)
	}
}

// Err is nil while Firestore answers; otherwise why not: the last failing
// RPC's method and error, since when it fails.
func (h *Health) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil || errors.Is(h.err, ErrNoAnswerYet) {
		return h.err
	}
	return fmt.Errorf("Firestore calls failing since %s: %w", h.downSince.UTC().Format(time.RFC3339), h.err)
}

// Up reports whether Firestore answers (Err is nil).
func (h *Health) Up() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err == nil
}

// AnsweredSince reports whether an RPC answered (succeeded, or answered
// about the data) at or after t.
func (h *Health) AnsweredSince(t time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.lastAnswer.IsZero() && !h.lastAnswer.Before(t)
}
