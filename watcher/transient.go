package watcher

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// transientCodes are the gRPC codes (Firestore) worth retrying.
var transientCodes = map[codes.Code]bool{
	codes.Unavailable:       true,
	codes.DeadlineExceeded:  true,
	codes.Aborted:           true,
	codes.ResourceExhausted: true,
	codes.Internal:          true,
}

// mongoRetryableCodes are MongoDB server error codes of a node that is
// stepping down, shutting down or unreachable (the codes the driver itself
// retries reads on).
var mongoRetryableCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	133,   // FailedToSatisfyReadPreference
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	9001,  // SocketException
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
}

// mongoRetryableLabels are the MongoDB error labels that mark a retryable
// failure.
var mongoRetryableLabels = []string{
	"NetworkError", "RetryableWriteError", "TransientTransactionError", "ResumableChangeStreamError",
}

// IsTransient reports whether err is worth retrying: Firestore's gRPC codes
// Unavailable, DeadlineExceeded, Aborted, ResourceExhausted and Internal;
// network errors (connection refused or reset, timeouts, unexpected EOF);
// MongoDB network errors, timeouts, retryable error labels and the error
// codes of a stepping-down or unreachable node. Anything else is permanent.
// A canceled context is not transient (it is a shutdown, not a failure).
//
// Joined errors (a page of writes with several failures) are transient when
// at least one part is transient and no part is permanent for sure (a gRPC
// status with another code): retrying cannot fix a rejected write.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) {
		return true
	}
	transient, permanent := false, false
	walkErrors(err, func(e error) {
		switch classifyOne(e) {
		case classTransient:
			transient = true
		case classPermanent:
			permanent = true
		}
	})
	return transient && !permanent
}

type errClass int

const (
	classUnknown errClass = iota // says nothing by itself (a wrapper)
	classTransient
	classPermanent
)

// classifyOne looks at one error of the tree, not at what it wraps.
func classifyOne(err error) errClass {
	if s, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		if st := s.GRPCStatus(); st != nil {
			if transientCodes[st.Code()] {
				return classTransient
			}
			return classPermanent
		}
	}
	if se, ok := err.(mongo.ServerError); ok {
		for _, l := range mongoRetryableLabels {
			if se.HasErrorLabel(l) {
				return classTransient
			}
		}
		for _, c := range mongoRetryableCodes {
			if se.HasErrorCode(c) {
				return classTransient
			}
		}
	}
	if _, ok := err.(net.Error); ok {
		return classTransient
	}
	switch err {
	case io.EOF, io.ErrUnexpectedEOF, context.DeadlineExceeded,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, syscall.ETIMEDOUT:
		return classTransient
	}
	return classUnknown
}

// walkErrors calls fn on err and every error it wraps (Unwrap() error and
// Unwrap() []error), depth first.
func walkErrors(err error, fn func(error)) {
	for depth := 0; err != nil && depth < 100; depth++ {
		fn(err)
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walkErrors(e, fn)
			}
			return
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return
		}
	}
}

// Reason tells why a failed event is dead-lettered (transient: its
// failure was transient, so its attempts ran out): one of event's reasons.
// The bus worker parks its failures with the same reasons.
func Reason(err error, transient bool) string {
	switch {
	case errors.Is(err, event.ErrInvalidID), errors.Is(err, event.ErrEmptyProjectID):
		return event.ReasonInvalidID
	case errors.Is(err, event.ErrSafetyLimit):
		return event.ReasonSafetyLimit
	case errors.Is(err, event.ErrProjectExists):
		return event.ReasonProjectExists
	case errors.Is(err, event.ErrInvalidValue):
		return event.ReasonInvalidValue
	case transient:
		return event.ReasonRetriesExhausted
	}
	return event.ReasonApplyFailed
}
