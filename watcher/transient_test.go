package watcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestIsTransient(t *testing.T) {
	grpcErr := func(c codes.Code) error { return status.Error(c, "firestore says "+c.String()) }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"Unavailable", grpcErr(codes.Unavailable), true},
		{"DeadlineExceeded", grpcErr(codes.DeadlineExceeded), true},
		{"Aborted", grpcErr(codes.Aborted), true},
		{"ResourceExhausted", grpcErr(codes.ResourceExhausted), true},
		{"Internal", grpcErr(codes.Internal), true},
		{"wrapped Unavailable", fmt.Errorf("sync: cleaning up: %w", grpcErr(codes.Unavailable)), true},
		{"PermissionDenied", grpcErr(codes.PermissionDenied), false},
		{"InvalidArgument", grpcErr(codes.InvalidArgument), false},
		{"Unknown", grpcErr(codes.Unknown), false},
		{"joined transient writes", errors.Join(grpcErr(codes.Unavailable), grpcErr(codes.Aborted)), true},
		{"joined transient and permanent", errors.Join(grpcErr(codes.Unavailable), grpcErr(codes.PermissionDenied)), false},
		{"net.OpError", fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"unexpected EOF", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), true},
		{"deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), true},
		{"canceled is a shutdown, not transient", fmt.Errorf("call: %w", context.Canceled), false},
		{"mongo NotWritablePrimary", mongo.CommandError{Code: 10107, Name: "NotWritablePrimary"}, true},
		{"mongo retryable label", mongo.CommandError{Code: 1, Labels: []string{"RetryableWriteError"}}, true},
		{"mongo network label", mongo.CommandError{Labels: []string{"NetworkError"}}, true},
		{"mongo duplicate key", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000}}}, false},
		{"mongo bad value", mongo.CommandError{Code: 2, Name: "BadValue"}, false},
		{"safety limit", fmt.Errorf("x: %w", event.ErrSafetyLimit), false},
		{"invalid id", fmt.Errorf("x: %w", event.ErrInvalidID), false},
		{"plain error", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTransient(tt.err); got != tt.want {
				t.Fatalf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		err       error
		transient bool
		want      string
	}{
		{fmt.Errorf("a: %w", event.ErrEmptyProjectID), false, event.ReasonInvalidID},
		{fmt.Errorf("a: %w", event.ErrInvalidID), false, event.ReasonInvalidID},
		{fmt.Errorf("a: %w", event.ErrSafetyLimit), false, event.ReasonSafetyLimit},
		{status.Error(codes.Unavailable, "x"), true, event.ReasonRetriesExhausted},
		{status.Error(codes.PermissionDenied, "x"), false, event.ReasonApplyFailed},
	}
	for _, tt := range tests {
		if got := Reason(tt.err, tt.transient); got != tt.want {
			t.Errorf("Reason(%v, %v) = %q, want %q", tt.err, tt.transient, got, tt.want)
		}
	}
}
