package main

import (
	"strings"
	"testing"
)

// A worker with bus.mode off would wait for events no leader publishes:
// it is a configuration error (exit 2) that says what to set.
func TestWorkerNeedsPublishMode(t *testing.T) {
	cfg := writeConfig(t, "bus:\n  mode: \"off\"\n")
	r := run(t, nil, "worker", "-c", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "bus.mode is \"off\"") || !strings.Contains(r.stderr, "bus.mode: publish") {
		t.Fatalf("worker with bus.mode off: %s", r)
	}
	r = run(t, nil, "bus", "teardown")
	if r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Fatalf("bus teardown: %s", r)
	}
	r = run(t, nil, "bus", "setup", "-c", writeConfig(t, "bus:\n  maxDeliveryAttempts: 1\n"))
	if r.code != 2 || !strings.Contains(r.stderr, "bus.maxDeliveryAttempts") {
		t.Fatalf("bus setup with a bad config: %s", r)
	}
}
