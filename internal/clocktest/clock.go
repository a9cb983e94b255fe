// Package clocktest has time sources for tests, safe for concurrent use,
// implementing clock.Clock: Clock moves only when told (Set, Add, FireAll),
// Auto moves forward by whatever a timer waits for, at once.
package clocktest

import (
	"sync"
	"time"
)

// Clock returns the time it was last set to; its timers fire when it is
// moved past them.
type Clock struct {
	mu     sync.Mutex
	t      time.Time
	timers []timer
	delays []time.Duration
	armed  chan struct{}
}

type timer struct {
	at time.Time
	ch chan time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t, armed: make(chan struct{}, 1024)} }

// Now is the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// After returns a channel that receives once the clock is moved to d from
// now or later.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.delays = append(c.delays, d)
	if d <= 0 {
		ch <- c.t
	} else {
		c.timers = append(c.timers, timer{at: c.t.Add(d), ch: ch})
	}
	select {
	case c.armed <- struct{}{}:
	default:
	}
	return ch
}

// Armed receives once for every timer made (After), so a test can wait
// until the code under test waits.
func (c *Clock) Armed() <-chan struct{} { return c.armed }

// Delays lists the durations of every timer made so far.
func (c *Clock) Delays() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.delays...)
}

// Set moves the clock to t, firing the timers due by then.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
	c.fire()
}

// Add moves the clock forward by d, firing the timers due by then.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.fire()
}

// FireAll moves the clock to the latest pending timer and fires them all.
func (c *Clock) FireAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if t.at.After(c.t) {
			c.t = t.at
		}
	}
	c.fire()
}

func (c *Clock) fire() {
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.t) {
			kept = append(kept, t)
			continue
		}
		t.ch <- c.t
	}
	c.timers = kept
}

// Auto fires every timer at once, moving its time forward by the timer's
// duration: code that waits runs without waiting.
type Auto struct {
	mu sync.Mutex
	t  time.Time
}

// NewAuto returns an Auto clock standing at t.
func NewAuto(t time.Time) *Auto { return &Auto{t: t} }

// Now is the clock's current time.
func (c *Auto) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// After moves the clock forward by d and returns a channel that has fired.
func (c *Auto) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(max(d, 0))
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

// Skewed is the wall clock off by Offset (another machine's clock).
type Skewed struct{ Offset time.Duration }

// Now is the wall time plus Offset.
func (s Skewed) Now() time.Time { return time.Now().Add(s.Offset) }

// After waits on the wall clock.
func (Skewed) After(d time.Duration) <-chan time.Time { return time.After(d) }
