// Package fscall bounds the Firestore calls of the watcher by
// firestore.callTimeout. The Firestore client retries Unavailable inside
// its generated client for as long as the call's context allows, so only
// the context bounds a call: Unary gives a unary call a deadline, Stream
// gives a streamed read (a query, a listing, a BulkWriter page) an idle
// limit that starts again with every result. A call the limit ended fails
// with a gRPC DeadlineExceeded status naming Firestore and the limit (Err),
// so the watcher retries it as transient and the metrics count it.
package fscall

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultTimeout is firestore.callTimeout's default.
const DefaultTimeout = 5 * time.Second

// Limit is how long a Firestore call may wait for an answer
// (firestore.callTimeout). The zero Limit is DefaultTimeout.
type Limit struct{ d time.Duration }

// New returns the limit d; d <= 0 is DefaultTimeout.
func New(d time.Duration) Limit { return Limit{d: d} }

// Timeout is the limit's duration.
func (l Limit) Timeout() time.Duration {
	if l.d <= 0 {
		return DefaultTimeout
	}
	return l.d
}

// NoAnswerError is the error of a call the limit ended: a gRPC
// DeadlineExceeded status whose message names Firestore and the limit.
type NoAnswerError struct{ Timeout time.Duration }

func (e *NoAnswerError) Error() string {
	return fmt.Sprintf("no answer from Firestore within firestore.callTimeout (%s)", e.Timeout)
}

// GRPCStatus makes the error a DeadlineExceeded status (status.Code,
// status.FromError and the watcher's IsTransient read it).
func (e *NoAnswerError) GRPCStatus() *status.Status {
	return status.New(codes.DeadlineExceeded, e.Error())
}

// Unary returns ctx with a deadline of the limit, for one unary call (or
// a call whose results arrive at once, such as an aggregation query).
func (l Limit) Unary(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, l.Timeout(), &NoAnswerError{Timeout: l.Timeout()})
}

// Err returns err as the caller should see it: the limit's NoAnswerError
// when the limit ended ctx (a context from Unary or Stream) and err is the
// end of the context (a context error, or a gRPC Canceled or
// DeadlineExceeded status); err otherwise: a call the caller cancelled
// keeps its own error, and so does Firestore's own answer.
func Err(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || !endedByContext(err) {
		return err
	}
	var limit *NoAnswerError
	if errors.As(context.Cause(ctx), &limit) {
		return limit
	}
	return err
}

func endedByContext(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch status.Code(err) {
	case codes.Canceled, codes.DeadlineExceeded:
		return true
	}
	return false
}
