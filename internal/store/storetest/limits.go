package storetest

import (
	"sync"
	"sync/atomic"
	"time"

	"sesame/internal/store"
)

// limitTests cover the shared rate-limit buckets (store.Limits).
var limitTests = []struct {
	name string
	fn   func(*env)
}{
	{"LimitsTakeRefill", testLimitsTakeRefill},
	{"LimitsCheckSpendsNothing", testLimitsCheck},
	{"LimitsConcurrent", testLimitsConcurrent},
	{"LimitsSweep", testLimitsSweep},
	{"LimitsInvalid", testLimitsInvalid},
}

func (e *env) take(key string, burst float64, per time.Duration, spend float64, now time.Time) (bool, time.Duration) {
	e.t.Helper()
	ok, wait, err := e.st.TakeToken(e.ctx, key, burst, per, spend, now)
	e.ok(err, "take token "+key)
	return ok, wait
}

// testLimitsTakeRefill: a new key starts full, spends down to empty, says
// how long to wait, refills at the given rate up to the burst, and keys
// are independent.
func testLimitsTakeRefill(e *env) {
	now := e.now()
	for i := range 3 {
		if ok, _ := e.take("ip:a", 3, time.Minute, 1, now); !ok {
			e.t.Fatalf("take %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := e.take("ip:a", 3, time.Minute, 1, now)
	if ok || wait != time.Minute {
		e.t.Fatalf("fourth take = %v, wait %v; want refused, wait 1m", ok, wait)
	}
	if ok, _ := e.take("ip:b", 3, time.Minute, 1, now); !ok {
		e.t.Fatal("another key is refused")
	}
	// 30 s later half a token is back: still refused, 30 s to wait.
	if ok, wait := e.take("ip:a", 3, time.Minute, 1, now.Add(30*time.Second)); ok || wait != 30*time.Second {
		e.t.Fatalf("after 30 s: %v, wait %v; want refused, wait 30s", ok, wait)
	}
	if ok, _ := e.take("ip:a", 3, time.Minute, 1, now.Add(time.Minute)); !ok {
		e.t.Fatal("after 1 min no token is back")
	}
	if ok, _ := e.take("ip:a", 3, time.Minute, 1, now.Add(time.Minute)); ok {
		e.t.Fatal("after 1 min two tokens are back")
	}
	// A clock behind the last take (another replica's) refills nothing.
	if ok, _ := e.take("ip:a", 3, time.Minute, 1, now); ok {
		e.t.Fatal("a take dated before the last one refilled the bucket")
	}
	// Long after, the bucket holds its burst and no more.
	later := now.Add(time.Hour)
	for i := range 3 {
		if ok, _ := e.take("ip:a", 3, time.Minute, 1, later); !ok {
			e.t.Fatalf("take %d after an hour refused", i+1)
		}
	}
	if ok, _ := e.take("ip:a", 3, time.Minute, 1, later); ok {
		e.t.Fatal("the bucket refilled beyond its burst")
	}
}

// testLimitsCheck: spend 0 looks without spending, like RateLimiter.Check.
func testLimitsCheck(e *env) {
	now := e.now()
	for range 5 {
		if ok, _ := e.take("account:x", 1, time.Minute, 0, now); !ok {
			e.t.Fatal("a check refused a full bucket")
		}
	}
	if ok, _ := e.take("account:x", 1, time.Minute, 1, now); !ok {
		e.t.Fatal("checks spent the token")
	}
	if ok, wait := e.take("account:x", 1, time.Minute, 0, now.Add(15*time.Second)); ok || wait != 45*time.Second {
		e.t.Fatalf("check of an empty bucket = %v, %v; want refused, 45s", ok, wait)
	}
}

// testLimitsConcurrent: 50 goroutines take from one bucket of burst 10;
// exactly 10 are allowed.
func testLimitsConcurrent(e *env) {
	now := e.now()
	var allowed atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := e.st.TakeToken(e.ctx, "login:shared", 10, time.Hour, 1, now)
			if err != nil {
				errs <- err
				return
			}
			if ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatalf("concurrent take: %v", err)
	}
	if n := allowed.Load(); n != 10 {
		e.t.Fatalf("%d of 50 concurrent takes allowed from a burst of 10, want exactly 10", n)
	}
}

// testLimitsSweep: only buckets that are full again are forgotten, and a
// forgotten bucket behaves as a new one.
func testLimitsSweep(e *env) {
	now := e.now()
	e.take("a", 2, time.Minute, 1, now) // full again at +1 min
	e.take("b", 2, time.Hour, 1, now)   // full again at +1 h
	e.take("c", 5, time.Second, 1, now) // full again at +1 s
	e.take("d", 5, time.Second, 0, now) // a look: no bucket to sweep
	if n, err := e.st.SweepTokens(e.ctx, now); err != nil || n != 0 {
		e.t.Fatalf("sweep now = %d, %v; want 0 (none is full)", n, err)
	}
	if n, err := e.st.SweepTokens(e.ctx, now.Add(time.Minute)); err != nil || n != 2 {
		e.t.Fatalf("sweep at +1 min = %d, %v; want 2 (a and c)", n, err)
	}
	// b is still there, one token short.
	e.take("b", 2, time.Hour, 1, now.Add(time.Minute))
	if ok, _ := e.take("b", 2, time.Hour, 1, now.Add(time.Minute)); ok {
		e.t.Fatal("the sweep forgot a bucket that was not full")
	}
	if n, err := e.st.SweepTokens(e.ctx, now.Add(3*time.Hour)); err != nil || n != 1 {
		e.t.Fatalf("sweep at +3 h = %d, %v; want 1", n, err)
	}
	if ok, _ := e.take("b", 2, time.Hour, 1, now.Add(3*time.Hour)); !ok {
		e.t.Fatal("a swept bucket does not start full")
	}
}

func testLimitsInvalid(e *env) {
	now := e.now()
	for _, c := range []struct {
		key          string
		burst, spend float64
		per          time.Duration
	}{
		{"", 1, 1, time.Second},
		{"k", 0.5, 0, time.Second},
		{"k", 1, 1, 0},
		{"k", 1, 1, -time.Second},
		{"k", 2, -1, time.Second},
		{"k", 2, 3, time.Second},
	} {
		_, _, err := e.st.TakeToken(e.ctx, c.key, c.burst, c.per, c.spend, now)
		e.is(err, store.ErrInvalid, "take token with bad arguments")
	}
}
