package web

import (
	"math"
	"sync"
	"time"
)

// RateLimiter is a token bucket per key (an IP address, an email, a
// token): each key may spend Burst requests at once and gets Rate tokens
// back per second. Buckets that are full again are forgotten, so memory
// stays bounded by the keys active within one refill period.
type RateLimiter struct {
	Burst float64
	Rate  float64 // tokens per second
	Now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter allows burst requests at once per key, refilled at one
// request every per.
func NewRateLimiter(burst int, per time.Duration, now func() time.Time) *RateLimiter {
	return &RateLimiter{Burst: float64(burst), Rate: 1 / per.Seconds(), Now: now}
}

func (l *RateLimiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Allow spends one token of key. When none is left it returns false and how
// long until one is back.
func (l *RateLimiter) Allow(key string) (bool, time.Duration) {
	return l.take(key, 1)
}

// Check reports, like Allow, whether key has a token left, without spending
// it (for limits that count only failures: check first, Allow after one).
func (l *RateLimiter) Check(key string) (bool, time.Duration) {
	return l.take(key, 0)
}

func (l *RateLimiter) take(key string, spend float64) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	l.forgetFull(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.Burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.Burst, b.tokens+el*l.Rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens -= spend
		return true, 0
	}
	wait := time.Duration(math.Ceil((1-b.tokens)/l.Rate*1000)) * time.Millisecond
	return false, wait
}

// forgetFull drops, at most once per refill period, the buckets that have
// refilled completely: they behave exactly like a new one.
func (l *RateLimiter) forgetFull(now time.Time) {
	full := time.Duration(l.Burst / l.Rate * float64(time.Second))
	if now.Sub(l.sweep) < full {
		return
	}
	l.sweep = now
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
}

// Len is the number of keys tracked (for tests and metrics).
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
