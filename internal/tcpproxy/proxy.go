package tcpproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Proxy listens on 127.0.0.1 and forwards each connection to its upstream.
type Proxy struct {
	ln       net.Listener
	upstream string
	delay    time.Duration
	logf     func(format string, args ...any)

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	gate   chan struct{} // closed while traffic flows; open while blackholed
	closed bool
	wg     sync.WaitGroup
}

// Option configures Start.
type Option func(*Proxy)

// WithDelay holds the bytes of each direction for d before passing them on
// (0, the default: none).
func WithDelay(d time.Duration) Option { return func(p *Proxy) { p.delay = d } }

// WithLogf reports unexpected accept errors (default: none reported).
func WithLogf(logf func(format string, args ...any)) Option {
	return func(p *Proxy) { p.logf = logf }
}

// Start listens on a free loopback port and forwards to upstream
// (host:port). Close stops it.
func Start(upstream string, opts ...Option) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tcpproxy: listen: %w", err)
	}
	p := &Proxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}, gate: make(chan struct{}),
		logf: func(string, ...any) {}}
	for _, o := range opts {
		o(p)
	}
	close(p.gate)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listening address (host:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Delay is the one-way delay the proxy adds.
func (p *Proxy) Delay() time.Duration { return p.delay }

// CutAll resets every open connection (RST, as when a middlebox drops
// them) and returns how many it closed, both sides counted. New
// connections are accepted as usual.
func (p *Proxy) CutAll() int {
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

// Blackhole stops forwarding: bytes sent either way, on open and new
// connections, go unanswered until Restore (then they are delivered, as
// TCP retransmission would after a partition heals).
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
		p.gate = make(chan struct{})
	default: // already blackholed
	}
}

// Restore lets traffic flow again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// Close stops listening, closes every connection and waits for the
// forwarding goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Restore()
	_ = p.ln.Close()
	p.CutAll()
	p.wg.Wait()
}

// wait blocks while traffic is blackholed; false when the proxy closed.
func (p *Proxy) wait() bool {
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

func (p *Proxy) track(c net.Conn) bool {
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
func (p *Proxy) forget(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	_ = c.Close()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.logf("tcpproxy: accept: %v", err)
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
func (p *Proxy) serve(down net.Conn) {
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
