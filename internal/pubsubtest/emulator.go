package pubsubtest

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/watchertest"
)

// StartEmulator starts a Pub/Sub emulator for this test alone (gcloud,
// on a free loopback port, in a process group of its own), waits until it
// answers and stops the group when the test ends; it returns its
// host:port. For a test that must not share the emulator with the tests
// before it: the emulator (0.8.20) throws on every stream a client cancels
// (a NoSuchMethodError in its gRPC server, logged on each SIGTERM'd
// worker's stop), and after enough of them it can stop redelivering an
// ordered message whose subscriber died. Without gcloud the test fails
// when env CI is set and is skipped otherwise, saying so.
func StartEmulator(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("gcloud"); err != nil {
		const why = "gcloud is not installed: this test starts a Pub/Sub emulator of its own (gcloud beta emulators pubsub start)"
		if os.Getenv("CI") != "" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	addr := freeLoopback(t)
	var out watchertest.LogBuffer
	cmd := exec.Command("gcloud", "beta", "emulators", "pubsub", "start", "--host-port="+addr)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the Pub/Sub emulator: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { stopGroup(cmd.Process.Pid, done) })
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("the Pub/Sub emulator exited at start:\n%s", out.String())
		default:
		}
		if resp, err := client.Get("http://" + addr + "/"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
	}
	t.Fatalf("the Pub/Sub emulator did not answer on %s within 60 s:\n%s", addr, out.String())
	return ""
}

// stopGroup stops the process group of pid (gcloud and its Java child):
// SIGTERM, then SIGKILL after 5 s.
func stopGroup(pid int, done <-chan struct{}) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

func freeLoopback(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}
