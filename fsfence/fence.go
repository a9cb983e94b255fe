package fsfence

import (
	"context"
	"fmt"
	"path"
	"sync/atomic"

	"github.com/projectwatcher/watcher/event"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Gate tells whether the current term may still write: nil, or why not.
// lease.Term is one. It is called before every write RPC and must be
// cheap and safe for concurrent use.
type Gate interface {
	Allow() error
}

// isWrite reports whether the Firestore RPC method (the last part of its
// gRPC name) changes documents.
func isWrite(method string) bool {
	switch method {
	case "BatchWrite", "Commit", "CreateDocument", "UpdateDocument", "DeleteDocument", "Write":
		return true
	}
	return false
}

// Fence refuses Firestore write RPCs unless the gate set with Admit allows
// them. The zero value refuses every write. Safe for concurrent use.
type Fence struct {
	gate    atomic.Pointer[gateBox]
	refused atomic.Int64
	// onRefused (may be nil) is told each refused write.
	onRefused func(method string, err error)
}

type gateBox struct{ g Gate }

// New returns a Fence that refuses every write until Admit; onRefused (may
// be nil) is told each refused write (for a log line).
func New(onRefused func(method string, err error)) *Fence {
	return &Fence{onRefused: onRefused}
}

// Admit lets writes through while g allows them; nil refuses every write
// (the term ended).
func (f *Fence) Admit(g Gate) {
	if g == nil {
		f.gate.Store(nil)
		return
	}
	f.gate.Store(&gateBox{g})
}

// Refused is how many write RPCs the fence refused.
func (f *Fence) Refused() int64 { return f.refused.Load() }

// check is nil when a write may be sent now.
func (f *Fence) check() error {
	b := f.gate.Load()
	if b == nil {
		return errNoTerm
	}
	return b.g.Allow()
}

// errNoTerm is why a write is refused between terms.
var errNoTerm = fmt.Errorf("no leader lease term is running")

// Unary is the unary client interceptor: install it after the others,
// the last step before the RPC goes out (a refused RPC is an
// fsmeter.NotSent error: neither metered nor taken for a Firestore
// outage).
func (f *Fence) Unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if err := f.refusal(method); err != nil {
		return err
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// Stream is the stream interceptor: Firestore's streamed write (Write) is
// refused like a unary write; other streams pass.
func (f *Fence) Stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
	streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if err := f.refusal(method); err != nil {
		return nil, err
	}
	return streamer(ctx, desc, cc, method, opts...)
}

// refusal is nil when the RPC method (a full gRPC method name) may be
// sent now: a read, or a write the gate allows. Otherwise it counts and
// reports the refusal and returns it.
func (f *Fence) refusal(method string) error {
	name := path.Base(method)
	if !isWrite(name) {
		return nil
	}
	why := f.check()
	if why == nil {
		return nil
	}
	err := &RefusedError{Method: name, Cause: why}
	f.refused.Add(1)
	if f.onRefused != nil {
		f.onRefused(name, err)
	}
	return err
}

// RefusedError is a write RPC the fence did not send. It is
// event.ErrTermEnded (errors.Is) and carries gRPC status
// FailedPrecondition, which no client retries.
type RefusedError struct {
	Method string // "BatchWrite", "Commit", …
	Cause  error  // why the term cannot write
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("firestore %s not sent: %v: %v", e.Method, event.ErrTermEnded, e.Cause)
}

// NotSent tells the meter (fsmeter.NotSent) that Firestore never saw the
// RPC.
func (e *RefusedError) NotSent() bool { return true }

// Unwrap is event.ErrTermEnded and the cause.
func (e *RefusedError) Unwrap() []error { return []error{event.ErrTermEnded, e.Cause} }

// GRPCStatus makes the refusal a FailedPrecondition to gRPC-aware callers.
func (e *RefusedError) GRPCStatus() *status.Status {
	return status.New(codes.FailedPrecondition, e.Error())
}

// DialOptions install the fence's interceptors on a gRPC connection; pass
// them after every other interceptor (fsmeter.ClientOptions' after).
func (f *Fence) DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(f.Unary),
		grpc.WithChainStreamInterceptor(f.Stream),
	}
}
