package firestoretest

import (
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Refusing starts a gRPC server on a free loopback port that answers every
// RPC, of any service, with the status code and msg: what Firestore says
// about wrong credentials or a missing database, which the emulator never
// says. Point a client at it as at the emulator (FIRESTORE_EMULATOR_HOST).
// It returns host:port and stops when the test ends.
func Refusing(t testing.TB, code codes.Code, msg string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("firestoretest: listen: %v", err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		return status.Error(code, msg)
	}))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}
