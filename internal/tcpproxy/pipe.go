package tcpproxy

import (
	"net"
	"time"
)

// chunkSize is the most one read takes from a connection.
const chunkSize = 32 << 10

// queuedChunks bounds the bytes held in one direction during the delay
// (chunkSize each); a full queue stops reading, as a full TCP window would.
const queuedChunks = 1024

// pipe copies src to dst, holding bytes while blackholed (and for the
// delay, when there is one). When either side ends, both are closed, after
// the bytes read before are delivered.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer func() {
		p.forget(src)
		p.forget(dst)
	}()
	if p.delay > 0 {
		p.delayedPipe(dst, src)
		return
	}
	buf := make([]byte, chunkSize)
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

// chunk is bytes read from one side, due on the other at due.
type chunk struct {
	data []byte
	due  time.Time
}

// delayedPipe reads src as fast as it delivers and writes each chunk to
// dst once it is p.delay old: the delay does not add up over chunks.
func (p *Proxy) delayedPipe(dst, src net.Conn) {
	queue := make(chan chunk, queuedChunks)
	go func() {
		defer close(queue)
		buf := make([]byte, chunkSize)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				queue <- chunk{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(p.delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	failed := false
	for c := range queue {
		if failed {
			continue // drain, so the reader can end
		}
		if wait := time.Until(c.due); wait > 0 {
			time.Sleep(wait)
		}
		if !p.wait() {
			failed = true
			_ = src.Close()
			continue
		}
		if _, err := dst.Write(c.data); err != nil {
			failed = true
			_ = src.Close()
		}
	}
}
