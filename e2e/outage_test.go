package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// metric reads one sample of /metrics: the first series of name whose
// labels contain every label given ("type=\"ProjectDeleted\""); ok is false
// when there is none.
func (d *daemon) metric(name string, labels ...string) (float64, bool) {
	_, body, err := d.get("/metrics")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || len(line) > len(name) && line[len(name)] != '{' && line[len(name)] != ' ' {
			continue
		}
		series, value, found := strings.Cut(line, " ")
		if !found {
			continue
		}
		matches := true
		for _, l := range labels {
			matches = matches && strings.Contains(series, l)
		}
		if !matches {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		return v, err == nil
	}
	return 0, false
}

// sumMetric adds every series of name.
func (d *daemon) sumMetric(name string) float64 {
	_, body, _ := d.get("/metrics")
	total := 0.0
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			if _, value, ok := strings.Cut(line, " "); ok {
				v, _ := strconv.ParseFloat(value, 64)
				total += v
			}
		}
	}
	return total
}

// lagStatus is /status's lagSeconds (nil when null).
func (d *daemon) lagStatus() (*float64, error) {
	_, body, err := d.get("/status")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Lag *float64 `json:"lagSeconds"`
	}
	err = json.Unmarshal([]byte(body), &doc)
	return doc.Lag, err
}

// outageEnv makes outages short to test: small backoffs, few attempts (an
// outage outlasts them), a short call timeout.
func outageEnv(proxy string) []string {
	return []string{"FIRESTORE_EMULATOR_HOST=" + proxy, "WATCHER_FIRESTORE_CALLTIMEOUT=1s",
		"WATCHER_RETRY_INITIALBACKOFF=100ms", "WATCHER_RETRY_MAXBACKOFF=1s", "WATCHER_RETRY_MAXATTEMPTS=2"}
}

// TestFirestoreOutageIsLoudAndPauses: Firestore stops answering with a
// delete to apply. Within seconds the operator sees it (a retry logged at
// warn and counted, /readyz failing on firestore, watcher_firestore_up 0);
// the outage outlasts retry.maxAttempts but pauses the event instead of
// dead-lettering it; when Firestore is back the event is applied within
// about retry.maxBackoff and readiness recovers.
func TestFirestoreOutageIsLoudAndPauses(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a := w.addProject(ctx, "a", "red", 2, true)
	proxy := newFaultProxy(t, os.Getenv("FIRESTORE_EMULATOR_HOST"))
	s := w.setup()
	s.extraConfig = fmt.Sprintf("deadLetter:\n  database: %q\n  collection: %q\n", w.dbName, deadLetterCollection)
	d := startDaemon(t, s, outageEnv(proxy.Addr())...)
	d.waitReady(30 * time.Second)

	proxy.Blackhole()
	w.deleteProject(ctx, a)
	eventually(t, 15*time.Second, func(context.Context) error {
		code, body, err := d.get("/readyz")
		switch {
		case err != nil:
			return err
		case code == 200 || !strings.Contains(body, "firestore: error"):
			return fmt.Errorf("/readyz %d %q, want 503 naming Firestore", code, body)
		}
		if up, ok := d.metric("watcher_firestore_up"); !ok || up != 0 {
			return fmt.Errorf("watcher_firestore_up = %v (%v), want 0", up, ok)
		}
		if n := d.sumMetric("watcher_retries_total"); n == 0 {
			return fmt.Errorf("watcher_retries_total = 0")
		}
		if !strings.Contains(d.logs.String(), `"level":"warn"`) || !strings.Contains(d.logs.String(), "transient failure") {
			return fmt.Errorf("no retry logged at warn yet")
		}
		return nil
	})
	time.Sleep(4 * time.Second) // well past 2 attempts of at most 1 s backoff each
	proxy.Restore()
	eventually(t, 15*time.Second, w.consistent)
	letters, err := w.deadLetterColl().all(ctx)
	if err != nil || len(letters) != 0 {
		t.Fatalf("dead letters after the outage: %v (%v), want none", letters, err)
	}
	eventually(t, 15*time.Second, func(context.Context) error {
		if up, _ := d.metric("watcher_firestore_up"); up != 1 {
			return fmt.Errorf("watcher_firestore_up = %v after Firestore came back", up)
		}
		if code, body, _ := d.get("/readyz"); code != 200 {
			return fmt.Errorf("/readyz %d %q after Firestore came back", code, body)
		}
		return nil
	})
	d.stop()
}

// TestStopDuringFirestoreOutageIsBounded: SIGTERM while an event waits on
// a Firestore that does not answer: the drain ends by shutdown.drainTimeout
// (or at once on a second signal), the process exits 0, the checkpoint
// stays before the unfinished event, and a restart once Firestore is back
// applies it.
func TestStopDuringFirestoreOutageIsBounded(t *testing.T) {
	for _, secondSignal := range []bool{false, true} {
		t.Run(fmt.Sprintf("second signal=%v", secondSignal), func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t)
			a := w.addProject(ctx, "a", "red", 2, false)
			proxy := newFaultProxy(t, os.Getenv("FIRESTORE_EMULATOR_HOST"))
			drain := "2s"
			if secondSignal {
				drain = "40s" // only the second signal can end it in time
			}
			env := append(outageEnv(proxy.Addr()), "WATCHER_FIRESTORE_CALLTIMEOUT=20s", "WATCHER_SHUTDOWN_DRAINTIMEOUT="+drain)
			d := startDaemon(t, w.setup(), env...)
			d.waitReady(30 * time.Second)
			proxy.Blackhole()
			w.deleteProject(ctx, a)
			time.Sleep(time.Second) // the delete is being applied: its call waits on Firestore
			stopped := time.Now()
			if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if secondSignal {
				time.Sleep(300 * time.Millisecond)
				if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			}
			if code := d.wait(15 * time.Second); code != 0 {
				t.Fatalf("exit %d after SIGTERM during the outage, want 0", code)
			}
			t.Logf("stopped %s after the first SIGTERM", time.Since(stopped).Round(100*time.Millisecond))
			if !strings.Contains(d.logs.String(), "stopping now") {
				t.Fatal("no log line saying what was abandoned")
			}
			proxy.Restore()
			d2 := startDaemon(t, w.setup(), env...)
			d2.waitReady(30 * time.Second)
			eventually(t, applyTimeout, w.consistent)
			d2.stop()
		})
	}
}

// TestMongoOutageShowsStreamDown: while MongoDB is unreachable the stream
// is reported down (watcher_stream_up 0, /readyz failing on the change
// stream), and up again once it is back; nothing is lost.
func TestMongoOutageShowsStreamDown(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	mongotest.RequireFaults(t, w.srv)
	a := w.addProject(ctx, "a", "red", 1, false)
	d := startDaemon(t, w.setup())
	d.waitReady(30 * time.Second)
	w.srv.RefuseConnections(8 * time.Second)
	w.srv.DropConnections()
	eventually(t, 8*time.Second, func(context.Context) error {
		if up, ok := d.metric("watcher_stream_up"); !ok || up != 0 {
			return fmt.Errorf("watcher_stream_up = %v (%v), want 0 while MongoDB is unreachable", up, ok)
		}
		return nil
	})
	eventually(t, 30*time.Second, func(context.Context) error {
		if up, _ := d.metric("watcher_stream_up"); up != 1 {
			return fmt.Errorf("watcher_stream_up = %v, want 1 once MongoDB is back", up)
		}
		return nil
	})
	w.deleteProject(ctx, a)
	eventually(t, applyTimeout, w.consistent)
	d.stop()
}

// TestIdleStreamShowsNoLag: on a healthy idle stream the lag is 0 in both
// watcher_lag_seconds and /status, not the time since the last event.
func TestIdleStreamShowsNoLag(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a := w.addProject(ctx, "a", "red", 1, false)
	d := startDaemon(t, w.setup())
	d.waitReady(30 * time.Second)
	w.updateProject(ctx, a, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "a2"}}}})
	eventually(t, applyTimeout, w.consistent)
	time.Sleep(3 * time.Second) // idle
	lag, ok := d.metric("watcher_lag_seconds")
	status, err := d.lagStatus()
	if !ok || err != nil || status == nil || lag != 0 || *status != 0 {
		t.Fatalf("idle: watcher_lag_seconds %v (%v), /status lagSeconds %v (%v); want 0 in both", lag, ok, status, err)
	}
	d.stop()
}
