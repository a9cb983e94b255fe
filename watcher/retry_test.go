package watcher

import (
	"testing"
	"time"
)

func TestRetryPolicyDelay(t *testing.T) {
	const ms = time.Millisecond
	p := RetryPolicy{InitialBackoff: 200 * ms, MaxBackoff: 30 * time.Second, MaxAttempts: 8}
	tests := []struct {
		name   string
		policy RetryPolicy
		failed int
		rand   float64
		want   time.Duration
	}{
		{"first failure, lowest draw", p, 1, 0, 200 * ms},
		{"first failure, highest draw", p, 1, 0.999999, 400 * ms},
		{"first failure, middle", p, 1, 0.5, 300 * ms},
		{"third failure ceiling 1.6s", p, 3, 0.5, 200*ms + 700*ms},
		{"ceiling capped at max", p, 20, 0.5, 200*ms + (30*time.Second-200*ms)/2},
		{"huge failure count does not overflow", p, 10000, 0.999999, 30 * time.Second},
		{"max below initial: always initial", RetryPolicy{InitialBackoff: time.Second, MaxBackoff: ms}, 3, 0.9, time.Second},
		{"zero policy: no wait", RetryPolicy{}, 1, 0.7, 0},
		{"out of range draw treated as 0", p, 2, 1.5, 200 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := tt.policy
			pol.Rand = func() float64 { return tt.rand }
			got := pol.Delay(tt.failed)
			if d := got - tt.want; d < -ms || d > ms {
				t.Fatalf("Delay(%d) with draw %v = %s, want %s", tt.failed, tt.rand, got, tt.want)
			}
		})
	}
}

func TestRetryPolicyDelayStaysInBounds(t *testing.T) {
	p := RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: time.Second}
	draws := []float64{0, 0.1, 0.5, 0.9, 0.999}
	for failed := 1; failed < 12; failed++ {
		ceiling := min(p.InitialBackoff<<failed, p.MaxBackoff)
		for _, r := range draws {
			p.Rand = func() float64 { return r }
			if d := p.Delay(failed); d < p.InitialBackoff || d > ceiling {
				t.Errorf("Delay(%d) with draw %v = %s, outside [%s, %s]", failed, r, d, p.InitialBackoff, ceiling)
			}
		}
	}
}

func TestRetryPolicyAttempts(t *testing.T) {
	for _, tt := range []struct{ max, want int }{{0, 1}, {-2, 1}, {1, 1}, {8, 8}} {
		if got := (RetryPolicy{MaxAttempts: tt.max}).Attempts(); got != tt.want {
			t.Errorf("Attempts with MaxAttempts %d = %d, want %d", tt.max, got, tt.want)
		}
	}
}
