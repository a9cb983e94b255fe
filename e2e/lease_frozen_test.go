package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/crashpoint"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// waitStopped waits until the process pid is stopped (SIGSTOP: state T in
// /proc/<pid>/stat).
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	eventually(t, 30*time.Second, func(context.Context) error {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return err
		}
		// pid (comm) state …: the state follows the last ')'.
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) == 0 || f[0] != "T" {
			return fmt.Errorf("process %d is not stopped: %q", pid, f)
		}
		return nil
	})
}

// A leader frozen right before it writes a page of renames (SIGSTOP at
// the crash point before-update-page, while it renames six projects) stays
// frozen past its term; the standby takes the lease and applies the newer
// renames. Resumed, the old leader must send no page it starts after the
// freeze: the write fence checks the term's deadline at each write RPC,
// before the lease's own timer has run. Before the fence about one round
// in two ended with such pages written over the standby's newer names;
// four rounds make that failure near certain. A page whose RPC was already
// handed to gRPC when the process froze may still land (the documented
// limit): the test tells pages started after the resume apart by the
// leader's "update page" log line, written before the page's first write
// (any of them written fails the round), and allows one round of four
// with stale copies from pages started before the freeze.
func TestFrozenLeaderSendsNoWriteAfterItsTerm(t *testing.T) {
	bin, err := crashpointBinary()
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 4
	withLimit := 0
	for round := range rounds {
		t.Run(fmt.Sprintf("round %d", round+1), func(t *testing.T) {
			if frozenLeaderRound(t, bin) {
				withLimit++
			}
		})
	}
	// With the fence a page in flight at the freeze landed late in about
	// one round in thirty (measured); without it, in about one round in two.
	if withLimit > 1 {
		t.Errorf("stale copies from pages in flight at the freeze in %d rounds of %d: more than writes already handed to gRPC explain", withLimit, rounds)
	}
}

// frozenLeaderRound is one round of TestFrozenLeaderSendsNoWriteAfterItsTerm
// in a world of its own. It reports whether copies were left stale by
// pages started before the freeze.
func frozenLeaderRound(t *testing.T, bin string) (staleInFlight bool) {
	ctx := context.Background()
	w := newWorld(t)
	const projects = 6
	var pids []string
	for i := range projects {
		pids = append(pids, w.addProject(ctx, fmt.Sprintf("p%d-name-0", i), "team", 15, false))
	}
	s := leaseSetup(w)
	s.bin = bin
	a := startDaemon(t, s, crashpoint.EnvVar+"=before-update-page:9:stop")
	a.waitReady(30 * time.Second)
	a.waitRole("leader", 30*time.Second)
	b := startDaemon(t, s)
	b.waitReady(30 * time.Second)

	renameAll := func(suffix string) {
		for i, pid := range pids {
			w.updateProject(ctx, pid, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: fmt.Sprintf("p%d-%s", i, suffix)}}}})
		}
	}
	renameAll("name-1") // a freezes before its ninth page, with other pages in flight
	waitStopped(t, a.cmd.Process.Pid)
	renameAll("name-2")
	b.waitRole("leader", 3*leaseTTL+30*time.Second)
	b.untilConsistent(w) // every copy says name-2

	resumed := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	a.waitRole("standby", 30*time.Second)
	a.requireRunning()
	time.Sleep(time.Second) // what the resumed leader sent has landed
	late := pagesStartedAfter(t, a.logs.String(), resumed)
	for _, st := range w.staleCopies(ctx) {
		if late[st.page] {
			t.Errorf("the resumed former leader wrote a page it started after its term: %s", st.path)
		} else {
			staleInFlight = true
			t.Logf("stale copy from a page started before the freeze: %s", st.path)
		}
	}
	if !contains(a.logs.String(), "Firestore write not sent") {
		t.Logf("no write reached the fence after the resume (the lease's timer cancelled the applies first)")
	} else if n, ok := a.metric("watcher_firestore_writes_refused_total"); !ok || n < 1 {
		t.Errorf("the fence refused a write but watcher_firestore_writes_refused_total = %v (found %v)", n, ok)
	}
	a.stop()
	b.stop()
	return staleInFlight
}

// page is one collection of one project: what an "update page" writes.
type page struct{ projectID, collection string }

// staleCopy is an asset whose projectName is not its project's name.
type staleCopy struct {
	page page
	path string
}

// staleCopies lists the assets whose projectName differs from MongoDB's.
func (w *world) staleCopies(ctx context.Context) []staleCopy {
	w.t.Helper()
	var out []staleCopy
	for pid, refs := range w.assets {
		oid, err := bson.ObjectIDFromHex(pid)
		if err != nil {
			w.t.Fatal(err)
		}
		var p projectDoc
		if err := w.projects.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&p); err != nil {
			w.t.Fatal(err)
		}
		for _, ref := range refs {
			snap, err := ref.Get(ctx)
			if err != nil {
				w.t.Fatal(err)
			}
			if got := snap.Data()["projectName"]; got != p.Name {
				out = append(out, staleCopy{page{pid, ref.Parent.ID}, fmt.Sprintf("%s: projectName %v, want %s", relPath(ref), got, p.Name)})
			}
		}
	}
	return out
}

// pagesStartedAfter reads the daemon's log: the pages whose "update page"
// line was written at or after t (the log's times have whole seconds; the
// freeze lasts longer than that).
func pagesStartedAfter(tb *testing.T, logs string, t time.Time) map[page]bool {
	tb.Helper()
	out := map[page]bool{}
	for _, line := range strings.Split(logs, "\n") {
		var l struct {
			Message    string    `json:"message"`
			ProjectID  string    `json:"projectId"`
			Collection string    `json:"collection"`
			Time       time.Time `json:"time"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Message != "update page" {
			continue
		}
		if !l.Time.Before(t.Truncate(time.Second)) {
			out[page{l.ProjectID, l.Collection}] = true
		}
	}
	return out
}
