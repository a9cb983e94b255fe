package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

const leaseTTL = 3 * time.Second

// leaseSetup is the world's setup with leases on and a start position
// before anything the test does.
func leaseSetup(w *world) setup {
	s := w.setup()
	s.startAt = startBefore()
	s.extraConfig = fmt.Sprintf("lease:\n  enabled: true\n  ttl: %q\n", leaseTTL.String())
	return s
}

// status reads the daemon's /status document.
func (d *daemon) status() (role string, epoch int64, err error) {
	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get("http://" + d.httpAddr + "/status")
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var doc struct {
		Role  string `json:"role"`
		Epoch int64  `json:"epoch"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return "", 0, err
	}
	return doc.Role, doc.Epoch, nil
}

// waitRole waits until the daemon reports role; it returns the epoch.
func (d *daemon) waitRole(role string, timeout time.Duration) int64 {
	d.t.Helper()
	var epoch int64
	eventually(d.t, timeout, func(context.Context) error {
		select {
		case <-d.done:
			d.t.Fatalf("the watcher exited with %d while waiting for role %s", d.exitCode, role)
		default:
		}
		r, e, err := d.status()
		if err != nil {
			return err
		}
		if r != role {
			return fmt.Errorf("role %q, want %q", r, role)
		}
		epoch = e
		return nil
	})
	return epoch
}

// get returns the status code and body of GET path.
func (d *daemon) get(path string) (int, string, error) {
	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get("http://" + d.httpAddr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

type leaseDoc struct {
	Owner      string    `bson:"owner"`
	Epoch      int64     `bson:"epoch"`
	AcquiredAt time.Time `bson:"acquiredAt"`
}

func (w *world) lease(ctx context.Context) (leaseDoc, error) {
	var doc leaseDoc
	err := w.projects.Database().Collection("leases").FindOne(ctx, bson.D{{Key: "_id", Value: "e2e"}}).Decode(&doc)
	return doc, err
}

func (w *world) checkpointEpoch(ctx context.Context) (int64, bson.Raw, error) {
	var doc struct {
		Epoch int64    `bson:"epoch"`
		Token bson.Raw `bson:"token"`
	}
	err := w.projects.Database().Collection("checkpoints").FindOne(ctx, bson.D{{Key: "_id", Value: "e2e"}}).Decode(&doc)
	if err == mongo.ErrNoDocuments {
		return 0, nil, nil
	}
	return doc.Epoch, doc.Token, err
}

// startPair starts a leader and then a standby, both ready.
func startPair(t *testing.T, s setup) (leader, standby *daemon, epoch int64) {
	t.Helper()
	leader = startDaemon(t, s)
	leader.waitReady(30 * time.Second)
	epoch = leader.waitRole("leader", 30*time.Second)
	standby = startDaemon(t, s)
	standby.waitReady(30 * time.Second) // a standby is ready
	if code, body, err := standby.get("/readyz"); err != nil || code != http.StatusOK || !strings.Contains(body, "role: standby") {
		t.Fatalf("standby /readyz = %d %q (%v), want 200 saying standby", code, body, err)
	}
	return leader, standby, epoch
}

// Two daemons; the leader is killed with SIGKILL during a workload: the
// standby takes over within the ttl plus a second, and once it caught up
// Firestore is consistent with MongoDB.
func TestLeaseKilledLeaderStandbyTakesOver(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	load := newWorkload(t, w)
	load.seedProjects(ctx, 6)
	a, b, epochA := startPair(t, leaseSetup(w))

	load.run(ctx, 12)
	a.kill()
	killedAt := time.Now()
	load.run(ctx, 12)

	epochB := b.waitRole("leader", 3*leaseTTL+30*time.Second)
	if epochB <= epochA {
		t.Errorf("new leader's epoch %d, want > %d", epochB, epochA)
	}
	doc, err := w.lease(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// acquiredAt is written from the standby's clock, on this host.
	if took := doc.AcquiredAt.Sub(killedAt); took > leaseTTL+time.Second {
		t.Errorf("the standby took the lease %s after the kill, want within ttl (%s) + 1s", took, leaseTTL)
	}
	b.untilConsistent(w)
	if ep, _, err := w.checkpointEpoch(ctx); err != nil || ep != epochB {
		t.Errorf("checkpoint epoch %d (%v), want the new leader's %d", ep, err, epochB)
	}
	b.stop()
}

// The leader is paused (SIGSTOP) past the ttl: the standby takes over. When
// resumed (SIGCONT) the former leader steps down to standby and never
// overwrites the new leader's checkpoint: a late save, if it tries one, is
// refused by the epoch fence.
func TestLeasePausedLeaderStepsDown(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	load := newWorkload(t, w)
	load.seedProjects(ctx, 6)
	a, b, epochA := startPair(t, leaseSetup(w))

	load.run(ctx, 8)
	// Let the leader work and checkpoint with its epoch.
	eventually(t, catchUpTimeout, func(ctx context.Context) error {
		ep, _, err := w.checkpointEpoch(ctx)
		if err == nil && ep != epochA {
			err = fmt.Errorf("checkpoint epoch %d, want %d", ep, epochA)
		}
		return err
	})
	load.run(ctx, 8) // leaves work in flight while it is paused
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	load.run(ctx, 8)
	epochB := b.waitRole("leader", 3*leaseTTL+30*time.Second)
	b.untilConsistent(w)
	eventually(t, catchUpTimeout, func(ctx context.Context) error {
		ep, _, err := w.checkpointEpoch(ctx)
		if err == nil && ep != epochB {
			err = fmt.Errorf("checkpoint epoch %d, want %d", ep, epochB)
		}
		return err
	})
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func(context.Context) error {
		if !contains(a.logs.String(), "lost the leader lease") {
			return fmt.Errorf("the resumed leader did not log the loss")
		}
		return nil
	})
	a.waitRole("standby", 30*time.Second)
	a.requireRunning()
	if code, body, err := a.get("/readyz"); err != nil || code != http.StatusOK || !strings.Contains(body, "role: standby") {
		t.Errorf("stepped-down /readyz = %d %q (%v), want 200 saying standby", code, body, err)
	}
	refused := contains(a.logs.String(), "checkpoint write refused")
	t.Logf("the resumed leader tried a late checkpoint save that was refused: %v", refused)
	_, body, err := a.get("/metrics")
	if err != nil || !strings.Contains(body, "watcher_checkpoint_writes_refused_total") ||
		refused && strings.Contains(body, "watcher_checkpoint_writes_refused_total 0\n") {
		t.Errorf("/metrics (%v) does not count the refused writes (refused in logs: %v)", err, refused)
	}

	// B goes on; A's late writes never replaced B's checkpoint.
	load.run(ctx, 6)
	b.untilConsistent(w)
	ep, token, err := w.checkpointEpoch(ctx)
	if err != nil || ep != epochB || len(token) == 0 {
		t.Errorf("checkpoint epoch %d token %v (%v), want epoch %d", ep, token, err, epochB)
	}
	if r, _, _ := a.status(); r != "standby" {
		t.Errorf("former leader role %q, want standby", r)
	}
	a.stop()
	b.stop()
}
