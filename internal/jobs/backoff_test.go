package jobs

import (
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	r := NewRunner(nil, Config{BackoffBase: time.Second, BackoffMax: time.Minute}, nil)
	for attempt := 1; attempt <= 40; attempt++ {
		hi := min(time.Second<<min(attempt-1, 20), time.Minute)
		lo := max(hi/2, time.Second)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := r.backoff(attempt)
			if d < lo || d > hi {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, d, lo, hi)
			}
			seen[d] = true
		}
		if attempt > 1 && len(seen) < 2 {
			t.Fatalf("attempt %d: no jitter", attempt)
		}
	}
}
