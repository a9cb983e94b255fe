package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/crashpoint"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// catchUpTimeout bounds the wait for a restarted daemon to apply everything.
const catchUpTimeout = 90 * time.Second

// kill sends SIGKILL (no shutdown code runs) and waits for the process to
// end. A daemon that already exited by itself fails the test: it was not
// supposed to stop.
func (d *daemon) kill() {
	d.t.Helper()
	select {
	case <-d.done:
		d.t.Fatalf("the watcher exited by itself with %d before the test killed it", d.exitCode)
	default:
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		d.t.Fatal(err)
	}
	d.wait(10 * time.Second)
}

// requireRunning fails the test when the process has exited.
func (d *daemon) requireRunning() {
	d.t.Helper()
	select {
	case <-d.done:
		d.t.Fatalf("the watcher exited with %d; it should have kept running", d.exitCode)
	default:
	}
}

// untilConsistent waits until Firestore is consistent with MongoDB (see
// world.consistent), failing at once if the daemon exits meanwhile.
func (d *daemon) untilConsistent(w *world) {
	d.t.Helper()
	eventually(d.t, catchUpTimeout, func(ctx context.Context) error {
		select {
		case <-d.done:
			d.t.Fatalf("the watcher exited with %d before Firestore was consistent", d.exitCode)
		default:
		}
		return w.consistent(ctx)
	})
}

// killedBySIGKILL reports whether the process ended by SIGKILL.
func (d *daemon) killedBySIGKILL() bool {
	ws, ok := d.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// startBefore is a resume.startAt safely before anything the test does, so
// a daemon killed before its first checkpoint save still sees every event.
func startBefore() string {
	return time.Now().Add(-2 * time.Second).UTC().Format(time.RFC3339)
}

// The daemon is killed with SIGKILL at random moments while a workload
// changes projects, and restarted each time; once a last daemon has caught
// up, Firestore must be consistent with MongoDB.
func TestCrashRandomKillsLoseNothing(t *testing.T) {
	kills, stepsPerRound := 24, 14
	if testing.Short() {
		kills, stepsPerRound = 6, 10
	}
	ctx := context.Background()
	w := newWorld(t)
	load := newWorkload(t, w)
	load.seedProjects(ctx, 12)
	s := w.setup()
	s.startAt = startBefore()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))

	for i := range kills {
		d := startDaemon(t, s)
		if rng.IntN(3) > 0 {
			d.waitReady(30 * time.Second) // else: killed while starting
		}
		load.run(ctx, stepsPerRound/2+rng.IntN(stepsPerRound))
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond) // mostly while work is pending
		d.kill()
		if i%8 == 7 {
			t.Logf("%d kills so far; workload: %v", i+1, load)
		}
	}
	t.Logf("killed the watcher %d times; workload: %v", kills, load)
	if load.events < 100 && !testing.Short() {
		t.Fatalf("fixture: only %d events; the test wants hundreds", load.events)
	}
	if err := w.consistent(ctx); err == nil {
		t.Log("Firestore happened to be consistent before the last restart")
	}

	d := startDaemon(t, s)
	d.waitReady(30 * time.Second)
	d.untilConsistent(w)
	d.requireRunning()
	d.stop()
}

// The daemon is killed at named points of the code (a build with the
// crashpoints tag); after a restart nothing is lost.
func TestCrashAtNamedPointsLosesNothing(t *testing.T) {
	bin, err := crashpointBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range crashPointCases {
		t.Run(tc.name, func(t *testing.T) { runCrashPoint(t, bin, tc) })
	}
}

// crashPointCase is a crash point and the changes around the kill there.
type crashPointCase struct {
	name  string
	point string
	// before makes the changes whose handling hits the point; it
	// returns a check of the state at the kill (nil: nothing to check).
	before func(ctx context.Context, w *world) func(ctx context.Context) error
	// whileDown makes more changes while the daemon is dead.
	whileDown func(ctx context.Context, w *world)
}

// runCrashPoint starts bin with tc's crash point, makes tc's changes until
// the point kills it and more while it is down, and checks that a daemon
// restarted without the point makes Firestore consistent.
func runCrashPoint(t *testing.T, bin string, tc crashPointCase) {
	ctx := context.Background()
	w := newWorld(t)
	s := w.setup()
	s.startAt = startBefore()
	s.bin = bin
	d := startDaemon(t, s, crashpoint.EnvVar+"="+tc.point)
	d.waitReady(30 * time.Second)
	atKill := tc.before(ctx, w)
	d.wait(catchUpTimeout)
	if !d.killedBySIGKILL() || !contains(d.logs.String(), "crashpoint: killing the process") {
		t.Fatalf("the watcher ended with %d, not by the crash point %s", d.exitCode, tc.point)
	}
	if atKill != nil {
		if err := atKill(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tc.whileDown(ctx, w)

	d2 := startDaemon(t, s) // same binary, no crash point
	d2.waitReady(30 * time.Second)
	d2.untilConsistent(w)
	d2.requireRunning()
	d2.stop()
}

var crashPointCases = []crashPointCase{
	{
		name:  "after Firestore writes, before the checkpoint",
		point: "after-apply-before-checkpoint:3",
		before: func(ctx context.Context, w *world) func(context.Context) error {
			p1 := w.addProject(ctx, "p1", "red", 2, true)
			p2 := w.addProject(ctx, "p2", "red", 2, true)
			w.addProject(ctx, "p3", "red", 2, false)
			w.updateProject(ctx, p1, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "p1 v2"}}}})
			w.deleteProject(ctx, p2)
			w.updateProject(ctx, p1, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "p1 v3"}}}})
			return nil
		},
		whileDown: func(ctx context.Context, w *world) {
			for pid := range w.assets {
				w.updateProject(ctx, pid, bson.D{{Key: "$set", Value: bson.D{{Key: "owner.team", Value: "down"}}}})
			}
		},
	},
	{
		name: "in the middle of a cleanup",
		// The first page of 500 written: at most 3 more pages were
		// in flight, so 1,000 to 2,500 of the 3,000 remain.
		point: "mid-cleanup:1",
		before: func(ctx context.Context, w *world) func(context.Context) error {
			big := w.addProjectAssets(ctx, "big", 3000)
			w.addProject(ctx, "kept", "blue", 2, true)
			w.deleteProject(ctx, big)
			return func(ctx context.Context) error {
				if n := w.countAll(ctx, "aiAnalyses"); n < 1002 || n > 2502 {
					return fmt.Errorf("%d aiAnalyses at the kill, want 1,000 to 2,500 of the big project's 3,000 left (+2 kept)", n)
				}
				return nil
			}
		},
		whileDown: func(ctx context.Context, w *world) {
			gone := w.addProject(ctx, "gone", "green", 2, true)
			w.deleteProject(ctx, gone)
		},
	},
}
