package web

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"sesame/internal/store"
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

// LimitRate is a limit's burst and refill period.
type LimitRate struct {
	Burst int
	Per   time.Duration // one request back every Per
}

// The limits of the web pages (see DefaultIPLimit, DefaultKeyLimit,
// DefaultAdminIPLimit), for the server to build shared ones alike.
var (
	FormLimitRate      = LimitRate{Burst: 20, Per: 6 * time.Second}
	LinkLimitRate      = LimitRate{Burst: 5, Per: 2 * time.Minute}
	AdminFormLimitRate = LimitRate{Burst: 120, Per: 500 * time.Millisecond}
)

// Limiter is a rate limiter keyed by a string: Allow spends a token, Check
// looks. RateLimiter counts in this process; SharedLimiter counts in the
// store, for every replica at once.
// AccountLimitKey is the login limiter's bucket for the account of
// personID: the provider's failed logins and the portal's wrong current
// passwords spend the same one.
func AccountLimitKey(personID string) string { return "account:person:" + personID }

type Limiter interface {
	Allow(key string) (bool, time.Duration)
	Check(key string) (bool, time.Duration)
}

var (
	_ Limiter = (*RateLimiter)(nil)
	_ Limiter = (*SharedLimiter)(nil)
)

// DefaultSharedTimeout bounds one shared-limiter statement.
const DefaultSharedTimeout = 2 * time.Second

// SharedLimiter is RateLimiter's token bucket kept in the store
// (store.Limits), so that every replica on one PostgreSQL database spends
// from the same buckets: N replicas allow the attempts of one, not N times
// them. Name keeps its keys apart from other limiters' ("login/ip:…").
//
// When the store fails (an error or the timeout), the request is decided
// by Fallback, an in-process RateLimiter with the same burst and rate, and
// the failure is logged at most once a minute: limits then hold per
// replica, as they did before, rather than refusing every login while the
// database hiccups or letting every attempt through. See
// docs/architecture.md.
type SharedLimiter struct {
	Limits   store.Limits
	Name     string
	Burst    float64
	Per      time.Duration // one token back every Per
	Fallback *RateLimiter
	Logger   *slog.Logger
	Now      func() time.Time
	Timeout  time.Duration // per statement; zero means DefaultSharedTimeout

	lastLog atomic.Int64 // unix seconds of the last failure logged
}

// NewSharedLimiter allows burst requests at once per key across every
// process sharing limits, refilled at one request every per.
func NewSharedLimiter(limits store.Limits, name string, burst int, per time.Duration, logger *slog.Logger) *SharedLimiter {
	return &SharedLimiter{Limits: limits, Name: name, Burst: float64(burst), Per: per,
		Fallback: NewRateLimiter(burst, per, nil), Logger: logger}
}

// Allow spends one token of key.
func (l *SharedLimiter) Allow(key string) (bool, time.Duration) { return l.take(key, 1) }

// Check reports whether key has a token left, spending nothing.
func (l *SharedLimiter) Check(key string) (bool, time.Duration) { return l.take(key, 0) }

func (l *SharedLimiter) take(key string, spend float64) (bool, time.Duration) {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultSharedTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ok, wait, err := l.Limits.TakeToken(ctx, l.Name+"/"+key, l.Burst, l.Per, spend, now)
	if err == nil {
		return ok, wait
	}
	if last := l.lastLog.Load(); now.Unix()-last >= 60 && l.lastLog.CompareAndSwap(last, now.Unix()) {
		lg := l.Logger
		if lg == nil {
			lg = slog.Default()
		}
		lg.Warn("shared rate limit unavailable; this replica counts alone until the store answers",
			"limit", l.Name, "err", err)
	}
	return l.Fallback.take(key, spend)
}

// SweepLimits forgets, every interval until ctx ends, the shared buckets
// that are full again (store.Limits.SweepTokens). Every replica may run it.
func SweepLimits(ctx context.Context, limits store.Limits, every time.Duration, logger *slog.Logger) {
	sweepEvery(ctx, every, logger, "sweep shared rate limits", limits.SweepTokens)
}

// sweepEvery calls sweep every interval until ctx ends, logging (as what)
// the errors that are not the end of ctx.
func sweepEvery(ctx context.Context, every time.Duration, logger *slog.Logger, what string, sweep func(context.Context, time.Time) (int, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := sweep(ctx, time.Now()); err != nil && ctx.Err() == nil {
				logger.Warn(what, "err", err)
			}
		}
	}
}
