package fsmeter

import (
	"sync"

	"google.golang.org/grpc/codes"
)

// Tally is a Recorder that keeps the totals in memory.
type Tally struct {
	mu     sync.Mutex
	counts Counts
}

// Counts are the totals of a Tally.
type Counts struct {
	RPCs   map[string]int // finished RPCs by method, whatever their status
	Failed int            // RPCs that did not end with OK
	Reads  int            // billed document reads
	Writes int            // billed document writes
}

// Call implements Recorder.
func (t *Tally) Call(method string, code codes.Code, reads, writes int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts.RPCs == nil {
		t.counts.RPCs = map[string]int{}
	}
	t.counts.RPCs[method]++
	if code != codes.OK {
		t.counts.Failed++
	}
	t.counts.Reads += reads
	t.counts.Writes += writes
}

// Counts returns a copy of the totals so far.
func (t *Tally) Counts() Counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counts
	c.RPCs = make(map[string]int, len(t.counts.RPCs))
	for m, n := range t.counts.RPCs {
		c.RPCs[m] = n
	}
	return c
}

// Total is the number of RPCs of every method.
func (c Counts) Total() int {
	n := 0
	for _, v := range c.RPCs {
		n += v
	}
	return n
}
