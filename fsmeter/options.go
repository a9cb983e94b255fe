package fsmeter

import (
	"context"
	"fmt"
	"math"
	"strings"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// ClientOptions returns the options that meter a Firestore client
// (firestore.NewClient and friends) into rec (nil: none) and tell obs (a
// Health, say) how each RPC ended. The interceptors of after (dial
// options, may be empty: the write fence) run after the meter, right
// before the RPC goes out; an RPC they refuse with a NotSent error is
// neither metered nor observed.
//
// For Firestore itself (emulatorHost empty) they chain the interceptors
// after any the client sets up. For an emulator (emulatorHost is host:port,
// what FIRESTORE_EMULATOR_HOST holds) the client dials its own connection
// and ignores dial options, so they hand it a metered connection to
// emulatorHost instead, set up as the client's own (plaintext, the
// emulator's "owner" token, no message size limits). The client closes it
// on Close. When FIRESTORE_EMULATOR_HOST is set, the client has already
// dialled its own connection by then; it stays open, unused, until the
// process exits (one per client).
func ClientOptions(rec Recorder, emulatorHost string, after []grpc.DialOption, obs ...Observer) ([]option.ClientOption, error) {
	s := sink{rec: rec, obs: obs}
	meter := append([]grpc.DialOption{
		grpc.WithChainUnaryInterceptor(s.unary),
		grpc.WithChainStreamInterceptor(s.stream),
	}, after...)
	if emulatorHost == "" {
		opts := make([]option.ClientOption, 0, len(meter))
		for _, d := range meter {
			opts = append(opts, option.WithGRPCDialOption(d))
		}
		return opts, nil
	}
	host := strings.TrimPrefix(strings.TrimPrefix(emulatorHost, "http://"), "https://")
	conn, err := grpc.NewClient("passthrough:///"+host, append(meter,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(emulatorOwner{}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)),
	)...)
	if err != nil {
		return nil, fmt.Errorf("fsmeter: connection to the emulator at %s: %w", emulatorHost, err)
	}
	return []option.ClientOption{option.WithGRPCConn(conn)}, nil
}

// emulatorOwner authenticates as the emulator's owner, which bypasses
// security rules (what the Firestore client does for the emulator).
type emulatorOwner struct{}

func (emulatorOwner) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}

func (emulatorOwner) RequireTransportSecurity() bool { return false }
