package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/pubsubtest"
	"github.com/projectwatcher/watcher/internal/tcpproxy"
)

// Pub/Sub unreachable for the leader (its connection blackholed): the
// leader says so on /readyz and in its metrics, the event waits (with
// retry.maxAttempts 1 it would be dead-lettered at its first failure if
// the outage counted), and once Pub/Sub answers again the event is
// published and applied.
func TestBusPubSubOutagePausesTheLeader(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	s := w.busSetup(t, "retry:\n  initialBackoff: \"100ms\"\n  maxBackoff: \"1s\"\n  maxAttempts: 1\n")
	runBusSetup(t, s)
	proxy, err := tcpproxy.Start(pubsubtest.RequireEmulator(t))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	gone := w.addProject(ctx, "gone", "red", 2, true)
	leader := startDaemon(t, s, "PUBSUB_EMULATOR_HOST="+proxy.Addr())
	leader.waitReady(30 * time.Second)
	worker := startWorker(t, s)
	worker.waitReady(30 * time.Second)

	proxy.Blackhole()
	w.deleteProject(ctx, gone)
	eventually(t, 45*time.Second, func(context.Context) error {
		code, body, err := leader.get("/readyz")
		if err != nil || code == 200 || !strings.Contains(body, "pubsub") {
			return fmt.Errorf("/readyz %d %q (%v), want 503 naming pubsub", code, body, err)
		}
		_, m, err := leader.get("/metrics")
		if err != nil || labelledSum(m, "watcher_bus_publish_failures_total") < 1 {
			return fmt.Errorf("no publish failure counted yet (%v)", err)
		}
		return nil
	})
	if !contains(leader.logs.String(), "publish failed; the event is published again after a backoff") {
		t.Error("the leader's log does not say the publish failed")
	}
	if err := w.consistent(ctx); err == nil {
		t.Fatal("Firestore consistent during the outage: the event went through another way")
	}

	proxy.Restore()
	leader.untilConsistent(w)
	letters, err := w.deadLetterColl().all(ctx)
	if err != nil || len(letters) != 0 {
		t.Errorf("dead letters after the outage: %d (%v), want none: an outage of the bus pauses the event", len(letters), err)
	}
	eventually(t, 30*time.Second, func(context.Context) error {
		if code, body, _ := leader.get("/readyz"); code != 200 {
			return fmt.Errorf("/readyz %d %q", code, body)
		}
		return nil
	})
	stopAll(worker, leader)
}

// labelledSum sums every sample of a metric family in a /metrics body.
func labelledSum(body, name string) float64 {
	total := 0.0
	for _, m := range regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(name)+`(?:\{[^}]*\})? (\S+)$`).FindAllStringSubmatch(body, -1) {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil {
			total += v
		}
	}
	return total
}
