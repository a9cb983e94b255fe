package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// faultProxy is a loopback TCP proxy owned by a test, between the daemon and
// a server (the Firestore emulator). It forwards bytes both ways until told
// to cut every connection or to blackhole traffic.
type faultProxy struct {
	t        *testing.T
	ln       net.Listener
	upstream string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	gate   chan struct{} // closed while traffic flows; open while blackholed
	closed bool
	wg     sync.WaitGroup
}

// newFaultProxy listens on 127.0.0.1 and forwards to upstream. It is closed
// at the end of the test.
func newFaultProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}, gate: make(chan struct{})}
	close(p.gate)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's listening address (host:port).
func (p *faultProxy) Addr() string { return p.ln.Addr().String() }

// cutAll resets every open connection (RST, as when a middlebox drops them).
// New connections are accepted as usual.
func (p *faultProxy) cutAll() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
		delete(p.conns, c)
		n++
	}
	return n
}

// blackhole stops forwarding: bytes sent either way, on open and new
// connections, go unanswered until restore (then they are delivered, as TCP
// retransmission would after a partition heals).
func (p *faultProxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
		p.gate = make(chan struct{})
	default: // already blackholed
	}
}

// restore lets traffic flow again.
func (p *faultProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// wait blocks while traffic is blackholed; false when the proxy closed.
func (p *faultProxy) wait() bool {
	p.mu.Lock()
	gate, closed := p.gate, p.closed
	p.mu.Unlock()
	if closed {
		return false
	}
	<-gate
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed
}

func (p *faultProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.restore()
	_ = p.ln.Close()
	p.cutAll()
	p.wg.Wait()
}

func (p *faultProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// forget closes c and drops it from the set.
func (p *faultProxy) forget(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	_ = c.Close()
}

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.t.Logf("proxy accept: %v", err)
			}
			return
		}
		if !p.track(c) {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve connects c to the upstream (once traffic flows) and pipes both ways.
func (p *faultProxy) serve(down net.Conn) {
	defer p.wg.Done()
	if !p.wait() {
		p.forget(down)
		return
	}
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		p.forget(down)
		return
	}
	if !p.track(up) {
		p.forget(down)
		return
	}
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() { defer pipes.Done(); p.pipe(up, down) }()
	go func() { defer pipes.Done(); p.pipe(down, up) }()
	pipes.Wait()
}

// pipe copies src to dst, holding bytes while blackholed. When either side
// ends, both are closed.
func (p *faultProxy) pipe(dst, src net.Conn) {
	defer func() {
		p.forget(src)
		p.forget(dst)
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // io.EOF or a reset: the connection is over
			return
		}
	}
}

func TestFaultProxyForwardsCutsAndBlackholes(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	p := newFaultProxy(t, echo.Addr().String())
	dial := func() net.Conn {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	roundTrip := func(c net.Conn, msg string, within time.Duration) error {
		_ = c.SetDeadline(time.Now().Add(within))
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		if string(buf) != msg {
			return fmt.Errorf("echo %q, want %q", buf, msg)
		}
		return nil
	}

	c := dial()
	if err := roundTrip(c, "hello", 5*time.Second); err != nil {
		t.Fatalf("forwarding: %v", err)
	}
	if n := p.cutAll(); n < 2 {
		t.Fatalf("cutAll closed %d connections, want both sides of the open one", n)
	}
	if err := roundTrip(c, "after cut", 5*time.Second); err == nil {
		t.Fatal("a cut connection still works")
	}

	c = dial()
	if err := roundTrip(c, "fresh", 5*time.Second); err != nil {
		t.Fatalf("a new connection after the cut: %v", err)
	}
	p.blackhole()
	if err := roundTrip(c, "lost?", 300*time.Millisecond); err == nil {
		t.Fatal("an answer came through the blackhole")
	}
	held := dial() // a connection made during the blackhole
	_ = held.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := held.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	p.restore()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(held, buf); err != nil || string(buf) != "held" {
		t.Fatalf("after restore the held connection got %q, %v", buf, err)
	}
}
