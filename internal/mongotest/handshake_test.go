package mongotest

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

func TestDriverAcceptsServerAsPrimary(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	ctx := testCtx(t)
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		t.Fatalf("ping primary: %v", err)
	}
	var hello bson.M
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		t.Fatalf("hello: %v", err)
	}
	checks := []struct {
		field string
		want  any
	}{
		{"isWritablePrimary", true},
		{"setName", "rs0"},
		{"maxWireVersion", int32(21)},
		{"maxBsonObjectSize", int32(16 * 1024 * 1024)},
		{"maxMessageSizeBytes", int32(48000000)},
		{"maxWriteBatchSize", int32(100000)},
		{"logicalSessionTimeoutMinutes", int32(30)},
		{"me", srv.Addr()},
		{"primary", srv.Addr()},
	}
	for _, c := range checks {
		if got := hello[c.field]; got != c.want {
			t.Errorf("hello.%s = %v (%T), want %v", c.field, got, got, c.want)
		}
	}
	var info bson.M
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatalf("buildInfo: %v", err)
	}
	if info["version"] != "7.0.0" {
		t.Errorf("buildInfo.version = %v, want 7.0.0", info["version"])
	}
}

func TestUnknownCommandFails(t *testing.T) {
	srv := startServer(t)
	client := connect(t, srv)
	err := client.Database("x").RunCommand(testCtx(t), bson.D{{Key: "frobnicate", Value: 1}}).Err()
	var ce mongo.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a command error", err)
	}
	if ce.Code != 59 || ce.Name != "CommandNotFound" || ce.Message != "no such command: 'frobnicate'" {
		t.Errorf("error = %d %s %q, want 59 CommandNotFound \"no such command: 'frobnicate'\"", ce.Code, ce.Name, ce.Message)
	}
}
