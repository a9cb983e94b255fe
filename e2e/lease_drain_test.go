package e2e

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/tcpproxy"
)

// TestDrainingLeaderKeepsTheLease: the leader is asked to stop (SIGTERM)
// while it applies a large cleanup through a slow Firestore. It keeps the
// lease while it drains (renewing it), its drain is capped below the
// lease's ttl, and only after it stopped writing and released the lease
// does the standby take over: at no moment do two instances write.
func TestDrainingLeaderKeepsTheLease(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	big := w.addProject(ctx, "big", "red", 300, true) // recursive: a listing per document, each a slow round trip
	slow, err := tcpproxy.Start(os.Getenv("FIRESTORE_EMULATOR_HOST"), tcpproxy.WithDelay(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(slow.Close)
	s := leaseSetup(w)
	// Small pages: the cleanup is many slow round trips; a long drain
	// timeout: only the lease's cap ends the drain.
	env := []string{"WATCHER_SHUTDOWN_DRAINTIMEOUT=60s", "WATCHER_SAFETY_MAXDOCSPEREVENT=0"}
	a := startDaemon(t, s, append(env, "FIRESTORE_EMULATOR_HOST="+slow.Addr())...)
	a.waitReady(30 * time.Second)
	a.waitRole("leader", 30*time.Second)
	b := startDaemon(t, s, env...)
	b.waitReady(30 * time.Second)

	w.deleteProject(ctx, big)
	time.Sleep(500 * time.Millisecond) // the cleanup is under way on the slow Firestore
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	// Until the old leader has exited, the standby must not lead.
	for {
		select {
		case <-a.done:
		default:
			if role, _, err := b.status(); err == nil && role == "leader" {
				t.Fatalf("the standby leads %s after the SIGTERM while the old leader still runs (two writers)", time.Since(stopped))
			}
			if time.Since(stopped) > 3*leaseTTL+10*time.Second {
				t.Fatalf("the old leader still runs %s after SIGTERM (the drain must be capped below the ttl)", time.Since(stopped))
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		break
	}
	if code := a.exitCode; code != 0 {
		t.Fatalf("the old leader exited %d, want 0", code)
	}
	t.Logf("the old leader drained for %s and released the lease", time.Since(stopped).Round(100*time.Millisecond))
	b.waitRole("leader", 3*leaseTTL+10*time.Second)
	b.untilConsistent(w) // the new leader replays what the old one abandoned
	b.stop()
}
