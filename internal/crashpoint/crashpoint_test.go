package crashpoint

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// The test binary re-runs itself as a child that hits a point three times;
// whether the child dies of SIGKILL depends on the build and the variable.
const childEnv = "CRASHPOINT_TEST_CHILD"

func TestHitKillsOnlyInCrashpointBuildsAtTheNthHit(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		for range 3 {
			Hit("p")
		}
		os.Exit(0)
	}
	tests := []struct {
		name   string
		env    string
		killed bool // in a crashpoints build; a release build never kills
	}{
		{"unset", "", false},
		{"other point", "q:1", false},
		{"first hit", "p", true},
		{"third hit", "p:3", true},
		{"fourth hit never comes", "p:4", false},
		{"bad value", "p:zero", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHitKillsOnlyInCrashpointBuildsAtTheNthHit$")
			cmd.Env = append(os.Environ(), childEnv+"=1", EnvVar+"="+tt.env)
			err := cmd.Run()
			killed := false
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				ws, ok := ee.Sys().(syscall.WaitStatus)
				killed = ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
				if !killed {
					t.Fatalf("child failed without SIGKILL: %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if want := tt.killed && Enabled; killed != want {
				t.Fatalf("killed = %v, want %v (Enabled = %v)", killed, want, Enabled)
			}
		})
	}
}

// TestStopPausesAtTheNthHitAndGoesOn: with ":stop" the child freezes
// itself (SIGSTOP) at the point and, resumed with SIGCONT, runs on to a
// clean exit.
func TestStopPausesAtTheNthHitAndGoesOn(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		for range 3 {
			Hit("p")
		}
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStopPausesAtTheNthHitAndGoesOn$")
	cmd.Env = append(os.Environ(), childEnv+"=1", EnvVar+"=p:2:stop")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(cmd.Process.Pid, &ws, syscall.WUNTRACED, nil); err != nil {
		t.Fatal(err)
	}
	if ws.Stopped() != Enabled {
		t.Fatalf("child stopped = %v (status %v), want %v (Enabled)", ws.Stopped(), ws, Enabled)
	}
	if !ws.Stopped() {
		if !ws.Exited() || ws.ExitStatus() != 0 {
			t.Fatalf("child ended with %v, want a clean exit", ws)
		}
		return
	}
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.Wait4(cmd.Process.Pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("resumed child ended with %v, want a clean exit", ws)
	}
}
