//go:build crashpoints

package crashpoint

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// Enabled reports whether this build honours crash points (true: built
// with the "crashpoints" tag, for tests only).
const Enabled = true

// armed is the crash point of this process, read once from the
// environment. Only test builds carry this state.
var armed = sync.OnceValue(func() *target {
	s, ok, err := parseSpec(os.Getenv(EnvVar))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashpoint:", err)
		return nil
	}
	if !ok {
		return nil
	}
	return &target{spec: s}
})

type target struct {
	spec
	hits atomic.Int64
}

// Hit acts the n-th time the point named by WATCHER_CRASHPOINT is
// reached: it kills the process with SIGKILL, or with ":stop" pauses it
// with SIGSTOP and returns once the test sent SIGCONT (the code after the
// point then runs as in a process that was frozen there).
func Hit(name string) {
	t := armed()
	if t == nil || t.name != name {
		return
	}
	if t.hits.Add(1) != t.nth {
		return
	}
	if t.stop {
		fmt.Fprintf(os.Stderr, "crashpoint: pausing the process at %q (hit %d)\n", name, t.nth)
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		return
	}
	fmt.Fprintf(os.Stderr, "crashpoint: killing the process at %q (hit %d)\n", name, t.nth)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; never return into the code after the point
}
