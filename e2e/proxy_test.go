package e2e

import (
	"testing"

	"github.com/projectwatcher/watcher/internal/tcpproxy"
)

// newFaultProxy starts a loopback proxy, owned by the test, between the
// daemon and a server (the Firestore emulator): it forwards bytes both ways
// until told to cut every connection or to blackhole traffic. It is closed
// at the end of the test. (Its own tests are in internal/tcpproxy.)
func newFaultProxy(t *testing.T, upstream string) *tcpproxy.Proxy {
	t.Helper()
	p, err := tcpproxy.Start(upstream, tcpproxy.WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
