package fsmeter

import (
	"context"
	"errors"
	"io"
	"path"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Recorder receives one call per finished RPC: its method (the last part
// of the gRPC method name, e.g. "RunQuery"), its status code, and the
// reads and writes Firestore bills for it. It must be safe for concurrent
// use.
type Recorder interface {
	Call(method string, code codes.Code, reads, writes int)
}

// Observer is told how every finished RPC ended: err is nil or the RPC's
// error; a call the caller's own limit ended (its context cancelled with a
// gRPC status as the cause: fscall's DeadlineExceeded) comes with that
// status, and a stream the caller stopped after a message arrived as nil
// (Firestore answered). Health is one. It must be safe for concurrent use.
type Observer interface {
	Finished(method string, err error)
}

// NotSent is implemented by the error of an interceptor after the meter
// that refused to send the RPC (the write fence): Firestore never saw it,
// so it is neither recorded nor observed.
type NotSent interface {
	NotSent() bool
}

// notSent reports whether err says the RPC never left the client.
func notSent(err error) bool {
	var ns NotSent
	return errors.As(err, &ns) && ns.NotSent()
}

// sink is where the interceptors report a finished RPC: the recorder (may
// be nil) and the observers.
type sink struct {
	rec Recorder
	obs []Observer
}

// finished reports one RPC. answered tells that a stream received a
// message before it ended: a stream the caller cancelled after that tells
// the observers that Firestore answered (the recorder still sees
// Canceled).
func (s sink) finished(ctx context.Context, method string, err error, reads, writes int, answered bool) {
	if notSent(err) {
		return
	}
	err = outcome(ctx, err)
	if s.rec != nil {
		s.rec.Call(method, status.Code(err), reads, writes)
	}
	if answered && status.Code(err) == codes.Canceled {
		err = nil
	}
	for _, o := range s.obs {
		o.Finished(method, err)
	}
}

// outcome is the error an RPC made under ctx ended with, as the caller's
// limit sees it: when the RPC was cancelled or ran out of time because
// ctx was ended with a cause that is a gRPC status (fscall's idle limit
// and deadline: DeadlineExceeded naming firestore.callTimeout), the cause;
// otherwise err. So a call the watcher's own limit ended counts as
// DeadlineExceeded, and a call the caller merely cancelled as Canceled.
func outcome(ctx context.Context, err error) error {
	switch status.Code(err) {
	case codes.Canceled, codes.DeadlineExceeded:
	default:
		return err
	}
	cause := context.Cause(ctx)
	if cause == nil {
		return err
	}
	var st interface{ GRPCStatus() *status.Status }
	if errors.As(cause, &st) {
		return cause
	}
	return err
}

// UnaryInterceptor meters unary RPCs into rec.
func UnaryInterceptor(rec Recorder) grpc.UnaryClientInterceptor {
	return sink{rec: rec}.unary
}

func (s sink) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	name := path.Base(method)
	reads, writes := 0, 0
	if err == nil {
		reads, writes = unaryBill(name, reply)
	}
	s.finished(ctx, name, err, reads, writes, false)
	return err
}

// StreamInterceptor meters streaming RPCs into rec: the documents of each
// received message are counted, and the call is recorded once, when the
// RPC finishes (end of stream, error or cancellation).
func StreamInterceptor(rec Recorder) grpc.StreamClientInterceptor {
	return sink{rec: rec}.stream
}

func (s sink) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	m := &meteredStream{ctx: ctx, name: path.Base(method), sink: s}
	cs, err := streamer(ctx, desc, cc, method, append(opts, grpc.OnFinish(m.finish))...)
	if err != nil {
		m.finish(err) // no stream: OnFinish is not called
		return nil, err
	}
	m.ClientStream = cs
	return m, nil
}

// meteredStream counts the billed reads of the messages it receives.
type meteredStream struct {
	grpc.ClientStream
	ctx      context.Context
	name     string
	sink     sink
	reads    atomic.Int64 // billed so far
	results  atomic.Int64 // documents (or entries) received so far
	received atomic.Bool  // a message arrived
	finished atomic.Bool
}

func (s *meteredStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil {
		s.received.Store(true)
		reads, result := streamBill(m)
		s.reads.Add(int64(reads))
		if result {
			s.results.Add(1)
		}
	} else {
		s.finish(err) // OnFinish does the same; whichever comes first counts
	}
	return err
}

// finish records the call once; an RPC that ended cleanly and returned
// nothing is billed the minimum of one read where Firestore charges one.
func (s *meteredStream) finish(err error) {
	if s.finished.Swap(true) {
		return
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	reads := int(s.reads.Load())
	if err == nil && s.results.Load() == 0 && minimumOneRead(s.name) {
		reads = 1
	}
	s.sink.finished(s.ctx, s.name, err, reads, 0, s.received.Load())
}
