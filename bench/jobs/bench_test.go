package jobsbench

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
)

// db is a migrated store with its raw handle.
type db interface {
	store.Store
	SQL() *sql.DB
	Migrate(ctx context.Context) error
}

func openSQLite(b *testing.B) db {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "sesame.db"), nil)
	return migrated(b, st, err)
}

func openPostgres(b *testing.B) db {
	st, err := postgres.Open(context.Background(), testenv.Postgres(b), nil)
	return migrated(b, st, err)
}

func migrated[T db](b *testing.B, st T, err error) db {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return st
}

// enqueue adds n no-op jobs, 500 per transaction (not measured).
func enqueue(b *testing.B, st store.Store, n int) {
	ctx := context.Background()
	for done := 0; done < n; {
		err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			for i := 0; i < 500 && done+i < n; i++ {
				if _, err := tx.EnqueueJob(ctx, &store.Job{Kind: "bench.noop", Payload: []byte(`{}`)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += 500
	}
}

// rawCommits is the reference: n transactions of one INSERT and one
// UPDATE of a single row each, straight on the store's handle (what a job
// costs at least: a claim and a completion, committed), per second.
func rawCommits(b *testing.B, st db, n int) float64 {
	ctx := context.Background()
	h := st.SQL()
	ph := func(i int) string { return "?" }
	if st.Backend() == "postgres" {
		ph = func(i int) string { return fmt.Sprintf("$%d", i) }
	}
	if _, err := h.ExecContext(ctx, "CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, state TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	ins := "INSERT INTO bench_raw (id, state) VALUES (" + ph(1) + ", 'pending')"
	upd := "UPDATE bench_raw SET state = 'done' WHERE id = " + ph(1)
	start := time.Now()
	for i := range n {
		tx, err := h.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, ins, i); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, upd, i); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// runner returns a runner of no-op jobs, each run counted in ran.
func runner(st store.Store, ran *atomic.Int64) *jobs.Runner {
	cfg := jobs.DefaultConfig()
	cfg.PollInterval = 20 * time.Millisecond
	r := jobs.NewRunner(st, cfg, slog.New(slog.DiscardHandler))
	r.Handle("bench.noop", func(context.Context, store.Job) error { ran.Add(1); return nil })
	return r
}

// viaRunOnce is the rate of RunOnce draining n due jobs.
func viaRunOnce(b *testing.B, st store.Store, n int) float64 {
	enqueue(b, st, n)
	start := time.Now()
	var count atomic.Int64
	ran, err := runner(st, &count).RunOnce(context.Background())
	el := time.Since(start)
	if err != nil || ran != n {
		b.Fatalf("RunOnce = %d, %v; want %d", ran, err, n)
	}
	return float64(n) / el.Seconds()
}

// viaRun is the rate of Run from its start until the store counts n jobs
// done: polled every 5 ms once the handlers have run n jobs (a count of
// the whole table meanwhile would compete with the runner for the CPU).
func viaRun(b *testing.B, st store.Store, n int) float64 {
	ctx := context.Background()
	before, _ := st.CountJobs(ctx)
	enqueue(b, st, n)
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error)
	start := time.Now()
	var count atomic.Int64
	go func() { done <- runner(st, &count).Run(rctx) }()
	for count.Load() < int64(n) {
		if time.Since(start) > 20*time.Minute {
			b.Fatalf("Run ran %d of %d jobs", count.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	for {
		c, err := st.CountJobs(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if c[store.JobDone]-before[store.JobDone] >= n {
			break
		}
		if time.Since(start) > 20*time.Minute {
			b.Fatalf("Run did not finish: %v", c)
		}
		time.Sleep(5 * time.Millisecond)
	}
	el := time.Since(start)
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return float64(n) / el.Seconds()
}

// bench reports, for b.N trivial jobs: the raw commit rate (1,000 commits),
// then jobs/s through RunOnce and through Run, and each as a ratio of the
// raw rate.
func bench(b *testing.B, open func(*testing.B) db) {
	n := b.N
	st := open(b)
	b.ResetTimer()
	raw := rawCommits(b, st, 1000)
	once := viaRunOnce(b, st, n)
	run := viaRun(b, st, n)
	b.StopTimer()
	b.ReportMetric(raw, "raw_commits/s")
	b.ReportMetric(once, "runonce_jobs/s")
	b.ReportMetric(run, "run_jobs/s")
	b.ReportMetric(once/raw, "runonce_vs_raw")
	b.ReportMetric(run/raw, "run_vs_raw")
}

// BenchmarkTrivialJobsSQLite: no-op jobs through the runner on SQLite.
func BenchmarkTrivialJobsSQLite(b *testing.B) { bench(b, openSQLite) }

// BenchmarkTrivialJobsPostgres: no-op jobs through the runner on
// PostgreSQL.
func BenchmarkTrivialJobsPostgres(b *testing.B) { bench(b, openPostgres) }
