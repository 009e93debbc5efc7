package idp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/web"
)

// Someone who has the password fires many wrong second-factor codes at
// once: no more are checked than the limit's burst, however they arrive
// (the limit counted failures after checking a token was left, so every
// code in flight found one: 33 to 39 of 200 were checked against a burst
// of 10 on PostgreSQL). The limiter is each store's own in production: the
// process's RateLimiter with SQLite, the shared one on PostgreSQL.
func TestConcurrentCodesSpendTheBurstOnly(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			const burst, n = 10, 200
			st, lim := limitedStore(t, backend, burst)
			f := newFixtureOn(t, st, func(c *Config) { c.LoginLimiter = lim })
			f.enrolTOTP(f.alice)
			c := f.rp(f.gen, secretGen, genRedirect)
			b := f.browser()
			if res, _, _ := c.startLogin(b, "alice.martin"); !res.isSecondStep() {
				t.Fatalf("after the password: %d", res.status)
			}
			count := atOnce(n, func() int { return b.second("000000").status })
			if count[http.StatusUnauthorized] > burst || count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != n {
				t.Fatalf("%d wrong codes checked of %d sent at once (statuses %v), want at most the burst, %d, and 429 for the rest",
					count[http.StatusUnauthorized], n, count, burst)
			}
			if n := f.p.codeLocks.len(); n != 0 {
				t.Errorf("%d second-factor turns still kept after every attempt ended", n)
			}
			// The right code now waits too.
			if res := b.second(f.codeAt(totpSecret, 0)); res.status != http.StatusTooManyRequests {
				t.Fatalf("the right code after the burst: %d", res.status)
			}
		})
	}
}

// keyLocks: one holder per key, others wait their turn or give up when
// their context ends, and nothing is kept once nobody holds or waits.
func TestKeyLocks(t *testing.T) {
	var k keyLocks
	ctx := context.Background()
	unlock, err := k.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is free.
	unlockB, err := k.lock(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	// The same key waits, and gives up with its context.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := k.lock(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a held key: %v", err)
	}
	got := make(chan func(), 1)
	go func() {
		u, err := k.lock(ctx, "a")
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("a second holder while the first holds the key")
	case <-time.After(20 * time.Millisecond):
	}
	unlock()
	(<-got)()
	if n := k.len(); n != 0 {
		t.Fatalf("%d keys kept after every holder left", n)
	}
}

// The same for the password: many wrong passwords for one account sent at
// once check no more than the limit's burst. Each attempt checked its
// buckets, hashed, then spent on failure, so every attempt in flight while
// a token was left was checked: up to the logins in progress
// (MaxLoginsInProgress, four per CPU in production) for each token.
func TestConcurrentPasswordsSpendTheBurstOnly(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			const burst, n = 10, 100
			st, lim := limitedStore(t, backend, burst)
			h := testHasher()
			h.MaxQueue = n // none refused for want of a slot: only the limit may refuse
			f := newFixtureOn(t, st, func(c *Config) { c.LoginLimiter, c.Hasher, c.MaxLoginsInProgress = lim, h, n })
			b := f.browser()
			form := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect)))
			if !form.isLoginForm() {
				t.Fatalf("authorize: %d", form.status)
			}
			count := atOnce(n, func() int { return b.login(form, "alice.martin", "not her password").status })
			if count[http.StatusUnauthorized] > burst || count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != n {
				t.Fatalf("%d wrong passwords checked of %d sent at once (statuses %v), want at most the burst, %d, and 429 for the rest",
					count[http.StatusUnauthorized], n, count, burst)
			}
			if n := f.p.loginLocks.len(); n != 0 {
				t.Errorf("%d login turns still kept after every attempt ended", n)
			}
			// The right password now waits too.
			if res := b.login(form, "alice.martin", testPassword); res.status != http.StatusTooManyRequests {
				t.Fatalf("the right password after the burst: %d", res.status)
			}
		})
	}
}

// atOnce makes n calls of send released together and counts the statuses
// they return.
func atOnce(n int, send func() int) map[int]int {
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = send()
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	return count
}

// limitedStore is a store of backend and the login limiter production
// gives it: the process's RateLimiter with SQLite, the shared one on
// PostgreSQL.
func limitedStore(t *testing.T, backend string, burst int) (store.Store, Limiter) {
	t.Helper()
	if backend == "postgres" {
		st := openPostgres(t)
		return st, web.NewSharedLimiter(st, "login", burst, time.Minute, slog.Default())
	}
	return openStore(t), web.NewRateLimiter(burst, time.Minute, nil)
}
