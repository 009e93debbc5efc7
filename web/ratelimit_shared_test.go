package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/web"
)

func openLimits(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sesame.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSharedLimiterMatchesRateLimiter runs one script of spends, looks and
// waits through the in-process limiter and the store-backed one: same
// answers, same waits.
func TestSharedLimiterMatchesRateLimiter(t *testing.T) {
	st := openLimits(t)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	mem := web.NewRateLimiter(3, 20*time.Second, clock)
	shared := web.NewSharedLimiter(st, "test", 3, 20*time.Second, nil)
	shared.Now = clock
	script := []struct {
		op      string // allow, check, or a duration to advance
		advance time.Duration
	}{
		{op: "check"}, {op: "allow"}, {op: "allow"}, {op: "check"}, {op: "allow"}, {op: "allow"}, {op: "check"},
		{advance: 5 * time.Second}, {op: "check"}, {op: "allow"},
		{advance: 15 * time.Second}, {op: "allow"}, {op: "allow"},
		{advance: time.Hour}, {op: "allow"}, {op: "allow"}, {op: "allow"}, {op: "allow"}, {op: "check"},
	}
	for i, s := range script {
		if s.advance > 0 {
			now = now.Add(s.advance)
			continue
		}
		for _, key := range []string{"ip:192.0.2.1", "account:person:1"} {
			var okM, okS bool
			var wM, wS time.Duration
			if s.op == "allow" {
				okM, wM = mem.Allow(key)
				okS, wS = shared.Allow(key)
			} else {
				okM, wM = mem.Check(key)
				okS, wS = shared.Check(key)
			}
			if okM != okS || wM != wS {
				t.Fatalf("step %d %s %s: in-process %v %v, shared %v %v", i, s.op, key, okM, wM, okS, wS)
			}
		}
	}
}

// TestSharedLimiterReplicasShareBuckets: two limiters over one store (two
// replicas) spend from the same buckets; another name is another limit.
func TestSharedLimiterReplicasShareBuckets(t *testing.T) {
	st := openLimits(t)
	a := web.NewSharedLimiter(st, "login", 10, time.Minute, nil)
	b := web.NewSharedLimiter(st, "login", 10, time.Minute, nil)
	other := web.NewSharedLimiter(st, "forms", 10, time.Minute, nil)
	for i := range 10 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if ok, _ := l.Allow("ip:192.0.2.1"); !ok {
			t.Fatalf("attempt %d of 10 refused", i+1)
		}
	}
	for _, l := range []*web.SharedLimiter{a, b} {
		if ok, wait := l.Check("ip:192.0.2.1"); ok || wait <= 0 {
			t.Fatalf("after 10 attempts split across two replicas: %v, wait %v; want refused", ok, wait)
		}
	}
	if ok, _ := other.Allow("ip:192.0.2.1"); !ok {
		t.Fatal("another limit's bucket is spent")
	}
}

// failingLimits is a store whose buckets are unavailable.
type failingLimits struct{ calls, sweeps atomic.Int32 }

func (f *failingLimits) TakeToken(context.Context, string, float64, time.Duration, float64, time.Time) (bool, time.Duration, error) {
	f.calls.Add(1)
	return false, 0, errors.New("connection refused")
}

func (f *failingLimits) SweepTokens(context.Context, time.Time) (int, error) {
	f.sweeps.Add(1)
	return 0, errors.New("connection refused")
}

// TestSharedLimiterFallsBack: when the store fails, the limiter counts in
// this process (the same burst: never unlimited, never a lockout) and
// says so in the log once, not at every request.
func TestSharedLimiterFallsBack(t *testing.T) {
	var logs bytes.Buffer
	f := &failingLimits{}
	l := web.NewSharedLimiter(f, "login", 3, time.Minute, slog.New(slog.NewTextHandler(&logs, nil)))
	for i := range 3 {
		if ok, _ := l.Allow("ip:192.0.2.1"); !ok {
			t.Fatalf("attempt %d refused while the store is down (the fallback has a burst of 3)", i+1)
		}
	}
	if ok, wait := l.Allow("ip:192.0.2.1"); ok || wait <= 0 {
		t.Fatalf("fourth attempt while the store is down: %v %v; want refused by the fallback", ok, wait)
	}
	if f.calls.Load() != 4 {
		t.Fatalf("the store was asked %d times, want 4 (it is tried first each time)", f.calls.Load())
	}
	if n := strings.Count(logs.String(), "shared rate limit unavailable"); n != 1 {
		t.Fatalf("the failure was logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "connection refused") {
		t.Fatalf("the log does not say why:\n%s", logs.String())
	}
}

// TestSharedLimiterTimeout: a store that does not answer within Timeout
// is a failure (the fallback decides), not a request left hanging.
func TestSharedLimiterTimeout(t *testing.T) {
	l := web.NewSharedLimiter(slowLimits{}, "login", 1, time.Minute, slog.New(slog.DiscardHandler))
	l.Timeout = 20 * time.Millisecond
	start := time.Now()
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("the fallback refused a first attempt")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Allow waited %v for a store that does not answer", d)
	}
}

type slowLimits struct{}

func (slowLimits) TakeToken(ctx context.Context, _ string, _ float64, _ time.Duration, _ float64, _ time.Time) (bool, time.Duration, error) {
	<-ctx.Done()
	return false, 0, fmt.Errorf("take token: %w", ctx.Err())
}

func (slowLimits) SweepTokens(context.Context, time.Time) (int, error) { return 0, nil }

// TestSweepLimits sweeps until its context ends, logging failures.
func TestSweepLimits(t *testing.T) {
	f := &failingLimits{}
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		web.SweepLimits(ctx, f, 5*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
		close(done)
	}()
	for deadline := time.Now().Add(5 * time.Second); f.sweeps.Load() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("SweepLimits did not sweep twice within 5 s")
		}
	}
	cancel()
	<-done
	if !strings.Contains(logs.String(), "sweep shared rate limits") {
		t.Fatalf("a failed sweep was not logged:\n%s", logs.String())
	}
}
