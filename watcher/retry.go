package watcher

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds the retries of an event that failed transiently
// (config retry.*). The zero value makes one attempt and never retries.
type RetryPolicy struct {
	InitialBackoff time.Duration // first wait; also the lower bound of every wait
	MaxBackoff     time.Duration // upper bound of every wait
	MaxAttempts    int           // attempts per event, the first included (< 1: 1)
	// Rand returns a number in [0, 1); nil: math/rand/v2.Float64. Tests
	// inject it so that delays are known in advance.
	Rand func() float64
}

// Attempts is how many times an event is tried at most.
func (p RetryPolicy) Attempts() int {
	return max(p.MaxAttempts, 1)
}

// Delay is the wait after the failed attempt number failed (1 for the
// first), with exponential backoff and full jitter: a uniform random
// duration between InitialBackoff and min(MaxBackoff, InitialBackoff·2^failed).
// The ceiling doubles with each failure; the floor stays at InitialBackoff,
// so a retry never comes back at once, and the jitter spreads the retries of
// many events failing together (an outage) over the whole window.
func (p RetryPolicy) Delay(failed int) time.Duration {
	lo := max(p.InitialBackoff, 0)
	hi := max(p.MaxBackoff, lo)
	ceiling := lo
	for i := 0; i < failed && ceiling < hi; i++ {
		if ceiling == 0 {
			break
		}
		if ceiling > hi/2 {
			ceiling = hi
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, hi)
	r := rand.Float64
	if p.Rand != nil {
		r = p.Rand
	}
	f := r()
	if f < 0 || f >= 1 {
		f = 0
	}
	return lo + time.Duration(f*float64(ceiling-lo))
}
