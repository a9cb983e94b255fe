package tcpproxy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer answers every connection with what it receives.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func start(t *testing.T, upstream string, opts ...Option) *Proxy {
	t.Helper()
	p, err := Start(upstream, append(opts, WithLogf(t.Logf))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func roundTrip(c net.Conn, msg string, within time.Duration) error {
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

func TestForwardsCutsAndBlackholes(t *testing.T) {
	p := start(t, echoServer(t))
	c := dial(t, p.Addr())
	if err := roundTrip(c, "hello", 5*time.Second); err != nil {
		t.Fatalf("forwarding: %v", err)
	}
	if n := p.CutAll(); n < 2 {
		t.Fatalf("CutAll closed %d connections, want both sides of the open one", n)
	}
	if err := roundTrip(c, "after cut", 5*time.Second); err == nil {
		t.Fatal("a cut connection still works")
	}

	c = dial(t, p.Addr())
	if err := roundTrip(c, "fresh", 5*time.Second); err != nil {
		t.Fatalf("a new connection after the cut: %v", err)
	}
	p.Blackhole()
	if err := roundTrip(c, "lost?", 300*time.Millisecond); err == nil {
		t.Fatal("an answer came through the blackhole")
	}
	held := dial(t, p.Addr()) // a connection made during the blackhole
	_ = held.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := held.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	p.Restore()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(held, buf); err != nil || string(buf) != "held" {
		t.Fatalf("after restore the held connection got %q, %v", buf, err)
	}
}

// A round trip through the proxy takes at least twice the one-way delay.
func TestDelayHoldsEachDirection(t *testing.T) {
	const delay = 50 * time.Millisecond
	p := start(t, echoServer(t), WithDelay(delay))
	c := dial(t, p.Addr())
	for i := range 5 {
		began := time.Now()
		if err := roundTrip(c, fmt.Sprintf("ping %d", i), 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(began); took < 2*delay {
			t.Fatalf("round trip %d took %s, less than twice the delay (%s)", i, took, 2*delay)
		}
	}
}

// Bytes sent one after another are each held for the delay, not one
// after the other: 20 writes 10 ms apart all arrive about one delay after
// they were sent, intact and in order.
func TestDelayDoesNotAddUp(t *testing.T) {
	const delay = 200 * time.Millisecond
	const writes = 20
	p := start(t, echoServer(t), WithDelay(delay))
	c := dial(t, p.Addr())
	var want bytes.Buffer
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 0, 1024)
		tmp := make([]byte, 1024)
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		for len(buf) < writes*len("chunk 00;") {
			n, err := c.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if err != nil {
				break
			}
		}
		got <- buf
	}()
	began := time.Now()
	var sent time.Duration // when the last write went out
	for i := range writes {
		if i > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		msg := fmt.Sprintf("chunk %02d;", i)
		want.WriteString(msg)
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		sent = time.Since(began)
	}
	b := <-got
	took := time.Since(began)
	if !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("received %q, want %q", b, want.Bytes())
	}
	// Serial delays would take writes × 2 × delay (8 s); pipelined ones
	// take the sending time plus one round trip.
	if took < sent+2*delay || took > sent+writes*delay {
		t.Fatalf("all bytes back after %s (sent over %s): want about %s more", took, sent, 2*delay)
	}
}
