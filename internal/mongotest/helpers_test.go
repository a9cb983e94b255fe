package mongotest

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// testCtx returns a context bounded for one test step.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startServer starts a server logging to the test.
func startServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	return New(t, append([]Option{WithLogger(log)}, opts...)...)
}

// connect returns a driver client of srv, disconnected at test end.
func connect(t *testing.T, srv *Server) *mongo.Client {
	t.Helper()
	// A short heartbeat: after a dropped connection the driver's monitor
	// sometimes waits a whole heartbeat before checking again (seen with
	// driver v2.10, not specific to this server).
	opts := options.Client().ApplyURI(srv.URI()).SetServerSelectionTimeout(10 * time.Second).SetHeartbeatInterval(500 * time.Millisecond)
	client, err := mongo.Connect(opts)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Disconnect(ctx); err != nil {
			t.Errorf("disconnect: %v", err)
		}
	})
	return client
}
