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

// UnaryInterceptor meters unary RPCs into rec.
func UnaryInterceptor(rec Recorder) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		name := path.Base(method)
		reads, writes := 0, 0
		if err == nil {
			reads, writes = unaryBill(name, reply)
		}
		rec.Call(name, status.Code(err), reads, writes)
		return err
	}
}

// StreamInterceptor meters streaming RPCs into rec: the documents of each
// received message are counted, and the call is recorded once, when the
// RPC finishes (end of stream, error or cancellation).
func StreamInterceptor(rec Recorder) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		m := &meteredStream{name: path.Base(method), rec: rec}
		cs, err := streamer(ctx, desc, cc, method, append(opts, grpc.OnFinish(m.finish))...)
		if err != nil {
			m.finish(err) // no stream: OnFinish is not called
			return nil, err
		}
		m.ClientStream = cs
		return m, nil
	}
}

// meteredStream counts the billed reads of the messages it receives.
type meteredStream struct {
	grpc.ClientStream
	name     string
	rec      Recorder
	reads    atomic.Int64 // billed so far
	results  atomic.Int64 // documents (or entries) received so far
	finished atomic.Bool
}

func (s *meteredStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil {
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
	s.rec.Call(s.name, status.Code(err), reads, 0)
}
