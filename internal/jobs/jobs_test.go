package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/store/storetest"
	"sesame/internal/testenv"
)

type migrator interface {
	store.Store
	Migrate(ctx context.Context) error
}

func migrated(t testing.TB, db migrator, err error) store.Store {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func openSQLite(t testing.TB, now func() time.Time) store.Store {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sesame.db"), now)
	return migrated(t, db, err)
}

func openPostgres(t testing.TB, dsn string, now func() time.Time) store.Store {
	db, err := postgres.Open(context.Background(), dsn, now)
	return migrated(t, db, err)
}

// onBoth runs fn on a fresh SQLite store and a fresh PostgreSQL database.
func onBoth(t *testing.T, fn func(t *testing.T, st store.Store, clock *storetest.Clock)) {
	t.Run("sqlite", func(t *testing.T) {
		c := storetest.NewClock()
		fn(t, openSQLite(t, c.Now), c)
	})
	t.Run("postgres", func(t *testing.T) {
		c := storetest.NewClock()
		fn(t, openPostgres(t, testenv.Postgres(t), c.Now), c)
	})
}

func logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testConfig(c *storetest.Clock) jobs.Config {
	cfg := jobs.DefaultConfig()
	cfg.Workers = 2
	cfg.MaxAttempts = 3
	cfg.BackoffBase = 10 * time.Second
	cfg.BackoffMax = time.Minute
	cfg.PollInterval = 10 * time.Millisecond
	cfg.Now = c.Now
	return cfg
}

func TestRunOnce(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store, c *storetest.Clock) {
		ctx := context.Background()
		r := jobs.NewRunner(st, testConfig(c), logger(t))
		var got []string
		var mu sync.Mutex
		r.Handle(jobs.KindLDAPPerson, func(ctx context.Context, j store.Job) error {
			var p jobs.PersonRef
			if err := json.Unmarshal(j.Payload, &p); err != nil {
				return jobs.Permanent(err)
			}
			mu.Lock()
			got = append(got, p.PersonID)
			mu.Unlock()
			return nil
		})
		for _, id := range []string{"p1", "p2", "p1"} {
			if _, err := jobs.Enqueue(ctx, st, jobs.KindLDAPPerson, jobs.DedupeLDAPPerson(id), jobs.PersonRef{PersonID: id}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := jobs.Enqueue(ctx, st, "nobody.handles", "", map[string]int{"x": 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := jobs.Enqueue(ctx, st, "bad", "", func() {}); err == nil {
			t.Fatal("a payload that is not JSON was enqueued")
		}
		n, err := r.RunOnce(ctx)
		if err != nil || n != 2 {
			t.Fatalf("RunOnce = %d, %v; want 2 (p1 deduplicated)", n, err)
		}
		if len(got) != 2 {
			t.Fatalf("handled %v", got)
		}
		left, _ := st.ListJobs(ctx, store.JobFilter{State: store.JobPending})
		if len(left) != 1 || left[0].Kind != "nobody.handles" || left[0].Attempts != 0 {
			t.Fatalf("a job with no handler was touched: %+v", left)
		}
		if n, _ := r.RunOnce(ctx); n != 0 {
			t.Fatalf("second RunOnce ran %d", n)
		}
	})
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store, c *storetest.Clock) {
		ctx := context.Background()
		cfg := testConfig(c)
		r := jobs.NewRunner(st, cfg, logger(t))
		var runs atomic.Int32
		r.Handle("flaky", func(ctx context.Context, j store.Job) error {
			if runs.Add(1) < 3 {
				return fmt.Errorf("ldap down (run %d)", runs.Load())
			}
			return nil
		})
		if _, err := jobs.Enqueue(ctx, st, "flaky", "", nil); err != nil {
			t.Fatal(err)
		}
		for attempt := 1; attempt <= 2; attempt++ {
			before := c.Now()
			if n, err := r.RunOnce(ctx); err != nil || n != 1 {
				t.Fatalf("attempt %d: RunOnce = %d, %v", attempt, n, err)
			}
			js, _ := st.ListJobs(ctx, store.JobFilter{})
			j := js[0]
			wait := j.RunAfter.Sub(before)
			// Attempt n waits between base*2^(n-1)/2 and base*2^(n-1), and
			// never below base (give or take the store's microsecond).
			hi := cfg.BackoffBase << (attempt - 1)
			if j.State != store.JobPending || j.Attempts != attempt || !strings.Contains(j.LastError, "ldap down") ||
				wait < cfg.BackoffBase-time.Microsecond || wait > hi+time.Microsecond {
				t.Fatalf("after attempt %d: %+v (waits %v, want within [%v, %v])", attempt, j, wait, cfg.BackoffBase, hi)
			}
			// Not due before its time...
			if n, _ := r.RunOnce(ctx); n != 0 {
				t.Fatalf("a job ran before its backoff was over")
			}
			// ...due after.
			c.Advance(wait + time.Microsecond)
		}
		if n, err := r.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("third run: %d, %v", n, err)
		}
		js, _ := st.ListJobs(ctx, store.JobFilter{})
		if js[0].State != store.JobDone || js[0].Attempts != 3 || runs.Load() != 3 {
			t.Fatalf("job = %+v after %d runs", js[0], runs.Load())
		}
	})
}

func TestMaxAttemptsBuries(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store, c *storetest.Clock) {
		ctx := context.Background()
		r := jobs.NewRunner(st, testConfig(c), logger(t))
		var runs atomic.Int32
		r.Handle("broken", func(ctx context.Context, j store.Job) error {
			return fmt.Errorf("failure %d", runs.Add(1))
		})
		if _, err := jobs.Enqueue(ctx, st, "broken", "", nil); err != nil {
			t.Fatal(err)
		}
		// A job may set its own maximum.
		own := store.Job{Kind: "broken", MaxAttempts: 1}
		if _, err := st.EnqueueJob(ctx, &own); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if _, err := r.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			c.Advance(time.Hour)
		}
		j, _ := st.ListJobs(ctx, store.JobFilter{})
		if j[0].State != store.JobDead || j[0].Attempts != 3 || !strings.HasPrefix(j[0].LastError, "failure ") {
			t.Fatalf("job = %+v, want dead after 3 attempts with its last error", j[0])
		}
		if j[1].State != store.JobDead || j[1].Attempts != 1 {
			t.Fatalf("job with MaxAttempts 1 = %+v", j[1])
		}
		if runs.Load() != 4 {
			t.Fatalf("handler ran %d times, want 4", runs.Load())
		}
	})
}

func TestPermanentGoesDeadAtOnce(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store, c *storetest.Clock) {
		ctx := context.Background()
		r := jobs.NewRunner(st, testConfig(c), logger(t))
		r.Handle("bad-payload", func(ctx context.Context, j store.Job) error {
			return jobs.Permanent(errors.New("payload is not a person"))
		})
		r.Handle("panics", func(ctx context.Context, j store.Job) error { panic("boom") })
		for _, k := range []string{"bad-payload", "panics"} {
			if _, err := jobs.Enqueue(ctx, st, k, "", nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		js, _ := st.ListJobs(ctx, store.JobFilter{})
		if js[0].State != store.JobDead || js[0].Attempts != 1 || js[0].LastError != "payload is not a person" {
			t.Fatalf("permanent failure: %+v", js[0])
		}
		if js[1].State != store.JobPending || !strings.Contains(js[1].LastError, "panicked: boom") {
			t.Fatalf("a panic is an ordinary failure, retried: %+v", js[1])
		}
		if jobs.Permanent(nil) != nil || !jobs.IsPermanent(fmt.Errorf("x: %w", jobs.Permanent(errors.New("y")))) {
			t.Fatal("Permanent wrapping")
		}
	})
}

// TestHandlerContextEndsBeforeLease checks that a handler that overruns is
// told to stop before its lease expires.
func TestHandlerContextEndsBeforeLease(t *testing.T) {
	c := storetest.NewClock()
	st := openSQLite(t, c.Now)
	ctx := context.Background()
	cfg := testConfig(c)
	cfg.Lease = 300 * time.Millisecond
	r := jobs.NewRunner(st, cfg, logger(t))
	var left time.Duration
	r.Handle("slow", func(ctx context.Context, j store.Job) error {
		dl, ok := ctx.Deadline()
		if !ok {
			return jobs.Permanent(errors.New("no deadline"))
		}
		left = time.Until(dl)
		<-ctx.Done()
		return ctx.Err()
	})
	if _, err := jobs.Enqueue(ctx, st, "slow", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if left <= 0 || left >= cfg.Lease {
		t.Fatalf("handler deadline in %v, want before the %v lease", left, cfg.Lease)
	}
	js, _ := st.ListJobs(ctx, store.JobFilter{})
	if js[0].State != store.JobPending || !strings.Contains(js[0].LastError, "deadline exceeded") {
		t.Fatalf("overrunning job = %+v", js[0])
	}
}

// TestRunStopsGracefully cancels Run while a handler runs: the handler
// finishes and its job is completed before Run returns.
func TestRunStopsGracefully(t *testing.T) {
	st := openSQLite(t, nil)
	cfg := jobs.DefaultConfig()
	cfg.PollInterval = 5 * time.Millisecond
	r := jobs.NewRunner(st, cfg, logger(t))
	started := make(chan struct{})
	release := make(chan struct{})
	r.Handle("k", func(ctx context.Context, j store.Job) error {
		close(started)
		<-release
		return nil
	})
	if _, err := jobs.Enqueue(context.Background(), st, "k", "", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	<-started
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a handler was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	js, _ := st.ListJobs(context.Background(), store.JobFilter{})
	if js[0].State != store.JobDone {
		t.Fatalf("job = %+v", js[0])
	}
}

// TestStoreDown checks that a runner whose database is gone reports it
// (RunOnce) or keeps trying without spinning or dying (Run).
func TestStoreDown(t *testing.T) {
	st := openSQLite(t, nil)
	r := jobs.NewRunner(st, jobs.Config{PollInterval: 5 * time.Millisecond}, logger(t))
	r.Handle("k", func(ctx context.Context, j store.Job) error { return nil })
	_ = st.Close()
	if _, err := r.RunOnce(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "jobs: claim") {
		t.Fatalf("RunOnce on a closed store: %v", err)
	}
	if _, err := jobs.Enqueue(context.Background(), st, "k", "", nil); err == nil {
		t.Fatal("Enqueue on a closed store succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Run on a closed store returned %v", err)
	}
}

func TestDefaultConfig(t *testing.T) {
	c := jobs.DefaultConfig()
	if c.Workers <= 0 || c.PollInterval <= 0 || c.Lease <= 0 || c.MaxAttempts <= 0 ||
		c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase || c.Now == nil {
		t.Fatalf("DefaultConfig = %+v", c)
	}
}

// TestSinksHaveTheirOwnWorkers blocks every handler of one sink: the jobs
// of another sink, enqueued after them, still all run, and the blocked
// sink never runs more jobs at once than its SinkWorkers.
func TestSinksHaveTheirOwnWorkers(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store, c *storetest.Clock) {
		ctx := context.Background()
		cfg := testConfig(c)
		cfg.Workers = 3
		cfg.SinkWorkers = map[string]int{"slow": 1}
		r := jobs.NewRunner(st, cfg, logger(t))
		release := make(chan struct{})
		var slowIn, slowMax, fast atomic.Int32
		r.Handle("slow.write", func(ctx context.Context, j store.Job) error {
			n := slowIn.Add(1)
			defer slowIn.Add(-1)
			for {
				m := slowMax.Load()
				if n <= m || slowMax.CompareAndSwap(m, n) {
					break
				}
			}
			<-release
			return nil
		})
		r.Handle("fast.send", func(ctx context.Context, j store.Job) error { fast.Add(1); return nil })
		const nSlow, nFast = 4, 60
		for range nSlow {
			if _, err := jobs.Enqueue(ctx, st, "slow.write", "", nil); err != nil {
				t.Fatal(err)
			}
		}
		for range nFast {
			if _, err := jobs.Enqueue(ctx, st, "fast.send", "", nil); err != nil {
				t.Fatal(err)
			}
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = r.Run(rctx) }()
		released := false
		defer func() {
			if !released {
				close(release)
			}
			cancel()
			<-done
		}()
		waitUntil(t, "a slow job to start", func() bool { return slowIn.Load() > 0 })
		waitUntil(t, "the fast sink's jobs to run while the slow sink is blocked", func() bool { return fast.Load() == nFast })
		if n := slowMax.Load(); n != 1 {
			t.Fatalf("%d slow jobs in flight, want 1 (its SinkWorkers)", n)
		}
		close(release)
		released = true
		waitUntil(t, "every job to be done", func() bool {
			counts, err := st.CountJobs(ctx)
			return err == nil && counts[store.JobDone] == nSlow+nFast
		})
		if slowMax.Load() != 1 {
			t.Fatalf("up to %d slow jobs ran at once, want 1", slowMax.Load())
		}
	})
}

// waitUntil polls cond until it holds; the deadline only keeps a broken
// runner from hanging the test.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStopWhileClaimingLeavesNothingRunning stops a busy runner again and
// again at random moments: a claim the stop interrupts must not leave jobs
// marked running (they would wait for their lease, five minutes by
// default, before anyone ran them again). Every job fails and is retried
// at once, so the runner is claiming nearly all the time.
func TestStopWhileClaimingLeavesNothingRunning(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store, _ *storetest.Clock) {
		ctx := context.Background()
		cfg := jobs.DefaultConfig()
		cfg.Workers = 4
		cfg.PollInterval = time.Millisecond
		cfg.BackoffBase, cfg.BackoffMax = time.Millisecond, time.Millisecond
		cfg.MaxAttempts = 1 << 20
		r := jobs.NewRunner(st, cfg, slog.New(slog.DiscardHandler))
		r.Handle("k", func(ctx context.Context, j store.Job) error { return errors.New("application down") })
		for i := range 200 {
			if _, err := jobs.Enqueue(ctx, st, "k", "", fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 60 {
			rctx, cancel := context.WithTimeout(ctx, time.Duration(1+i%15)*time.Millisecond)
			if err := r.Run(rctx); err != nil {
				t.Fatal(err)
			}
			cancel()
			n, err := st.CountJobs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n[store.JobRunning] != 0 {
				t.Fatalf("stop %d: %d jobs left running (states %v)", i, n[store.JobRunning], n)
			}
		}
	})
}
