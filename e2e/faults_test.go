package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/mongotest"
)

// The daemon reaches the Firestore emulator through a proxy that first cuts
// every connection, then blackholes traffic for several seconds, then
// restores it, while a workload runs. The daemon must recover by itself
// (no restart) and lose nothing.
func TestFirestoreFaultsRecoverWithoutRestart(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t) // fails or skips when FIRESTORE_EMULATOR_HOST is unset
	proxy := newFaultProxy(t, os.Getenv("FIRESTORE_EMULATOR_HOST"))
	load := newWorkload(t, w)
	load.seedProjects(ctx, 8)
	s := w.setup()
	s.startAt = startBefore()
	d := startDaemon(t, s, "FIRESTORE_EMULATOR_HOST="+proxy.Addr())
	d.waitReady(30 * time.Second)

	load.run(ctx, 25)
	d.untilConsistent(w) // the daemon talks to Firestore through the proxy
	load.run(ctx, 10)
	if n := proxy.CutAll(); n == 0 {
		t.Fatal("fixture: the daemon had no connection through the proxy to cut")
	}
	load.run(ctx, 25)
	proxy.Blackhole()
	load.run(ctx, 25)
	time.Sleep(6 * time.Second)
	d.requireRunning()
	proxy.Restore()
	load.run(ctx, 25)
	t.Logf("workload: %v", load)

	d.untilConsistent(w)
	d.requireRunning()
	d.stop()
}

// mongoFault is one fault internal/mongotest injects during the workload.
type mongoFault struct {
	name   string
	inject func(srv *mongotest.Server)
}

// Error codes and labels of the faults (MongoDB's values).
const (
	codeCursorNotFound     = 43
	codeRetryChangeStream  = 234
	codeNotWritablePrimary = 10107
)

// During a workload the MongoDB server drops every connection, fails
// getMores with resumable errors and answers NotWritablePrimary; nothing
// may be lost or applied out of order per project (world.consistent: the
// last name of a project renamed several times, no asset of a deleted
// project resurrected by an earlier rename).
func TestMongoFaultsLoseNothingAndKeepOrder(t *testing.T) {
	faults := []mongoFault{
		{"drop every connection", func(srv *mongotest.Server) { srv.DropConnections() }},
		{"getMore fails with a resumable error", func(srv *mongotest.Server) {
			srv.FailCommand("getMore", 2, codeRetryChangeStream) // the server labels it resumable
		}},
		{"getMore cursor not found", func(srv *mongotest.Server) {
			srv.FailCommand("getMore", 1, codeCursorNotFound) // unlabelled, as a real server answers it
		}},
		{"getMore NotWritablePrimary", func(srv *mongotest.Server) {
			srv.FailCommand("getMore", 1, codeNotWritablePrimary)
		}},
		{"update NotWritablePrimary (checkpoint saves, renames)", func(srv *mongotest.Server) {
			srv.FailCommand("update", 1, codeNotWritablePrimary)
		}},
		{"aggregate NotWritablePrimary (reopening the stream)", func(srv *mongotest.Server) {
			srv.FailCommand("aggregate", 1, codeNotWritablePrimary)
		}},
		{"connection closed during a getMore", func(srv *mongotest.Server) { srv.CloseOnCommand("getMore", 1) }},
		{"drop every connection and refuse new ones for 2s", func(srv *mongotest.Server) {
			srv.RefuseConnections(2 * time.Second)
			srv.DropConnections()
		}},
		{"find NotWritablePrimary (field lookups)", func(srv *mongotest.Server) {
			srv.FailCommand("find", 1, codeNotWritablePrimary)
		}},
	}
	ctx := context.Background()
	w := newWorld(t)
	mongotest.RequireFaults(t, w.srv)
	load := newWorkload(t, w)
	load.seedProjects(ctx, 8)
	s := w.setup()
	s.startAt = startBefore()
	// As a deployment would: the driver rechecks a failed server quickly.
	s.mongoURI += "&heartbeatFrequencyMS=500"
	d := startDaemon(t, s)
	d.waitReady(30 * time.Second)

	for _, f := range faults {
		load.run(ctx, 10)
		t.Logf("injecting: %s", f.name)
		f.inject(w.srv)
		load.run(ctx, 15)
		time.Sleep(300 * time.Millisecond)
		d.requireRunning()
	}
	t.Logf("workload: %v", load)

	d.untilConsistent(w)
	d.requireRunning()
	d.stop()
}
