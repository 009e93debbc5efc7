package jobs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/testenv"
)

// TestTwoRunnersExactlyOnce runs two runners, each on its own connection
// pool (as two processes would), over 500 jobs: every job runs once.
func TestTwoRunnersExactlyOnce(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	a := openPostgres(t, dsn, nil)
	b, err := postgres.Open(ctx, dsn, nil) // migrated by a
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	const n = 500
	err = a.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			if _, err := jobs.Enqueue(ctx, tx, "count", "", map[string]int{"i": i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	runs := map[int]int{}
	by := map[string]int{}
	handler := func(name string) jobs.Handler {
		return func(ctx context.Context, j store.Job) error {
			var p struct{ I int }
			if err := json.Unmarshal(j.Payload, &p); err != nil {
				return jobs.Permanent(err)
			}
			mu.Lock()
			runs[p.I]++
			by[name]++
			mu.Unlock()
			return nil
		}
	}
	cfg := jobs.DefaultConfig()
	cfg.Workers = 4
	cfg.PollInterval = 5 * time.Millisecond
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for name, st := range map[string]store.Store{"a": a, "b": b} {
		r := jobs.NewRunner(st, cfg, logger(t).With("runner", name))
		r.Handle("count", handler(name))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(rctx); err != nil {
				t.Errorf("runner %s: %v", name, err)
			}
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		counts, err := a.CountJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.JobDone] == n {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			wg.Wait()
			t.Fatalf("not done after 60s: %v", counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if len(runs) != n {
		t.Fatalf("%d distinct jobs ran, want %d", len(runs), n)
	}
	for i, c := range runs {
		if c != 1 {
			t.Fatalf("job %d ran %d times", i, c)
		}
	}
	t.Logf("runner a ran %d jobs, runner b %d", by["a"], by["b"])
	if by["a"] == 0 || by["b"] == 0 {
		t.Logf("note: one runner took every job")
	}
}

const childEnv = "SESAME_JOBS_TEST_CHILD_DSN"

// TestKilledWorkerChild is the child process of TestKilledWorker: it claims
// the job with a short lease, says so, and blocks in the handler until it
// is killed.
func TestKilledWorkerChild(t *testing.T) {
	dsn := os.Getenv(childEnv)
	if dsn == "" {
		t.Skip("child process of TestKilledWorker only")
	}
	st, err := postgres.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := jobs.DefaultConfig()
	cfg.Lease = 2 * time.Second
	cfg.PollInterval = 10 * time.Millisecond
	r := jobs.NewRunner(st, cfg, nil)
	r.Handle("crash", func(ctx context.Context, j store.Job) error {
		fmt.Printf("CLAIMED %d %s\n", j.ID, j.LeaseID)
		_ = os.Stdout.Sync()
		select {} // until SIGKILL
	})
	_, _ = r.RunOnce(context.Background())
	t.Fatal("the child's handler returned")
}

// TestKilledWorker kills a process in the middle of a job: the job stays
// claimed until its lease expires, then another worker claims it and it
// runs once.
func TestKilledWorker(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	st := openPostgres(t, dsn, nil)
	if _, err := jobs.Enqueue(ctx, st, "crash", "", nil); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWorkerChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+dsn)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	claimed := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "CLAIMED "); ok {
				claimed <- line
			}
		}
		close(claimed)
	}()
	var line string
	select {
	case l, ok := <-claimed:
		if !ok {
			_ = cmd.Wait()
			t.Fatal("the child exited without claiming the job")
		}
		line = l
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the child did not claim the job")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", werr)
	}
	t.Logf("child claimed %s and was killed", line)

	js, _ := st.ListJobs(ctx, store.JobFilter{})
	if len(js) != 1 || js[0].State != store.JobRunning || js[0].Attempts != 1 {
		t.Fatalf("after the kill: %+v", js)
	}
	var ran int
	handler := func(ctx context.Context, j store.Job) error { ran++; return nil }

	// Within the lease, nobody can take the job.
	cfg := jobs.DefaultConfig()
	r := jobs.NewRunner(st, cfg, logger(t))
	r.Handle("crash", handler)
	if n, err := r.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("within the lease: RunOnce = %d, %v", n, err)
	}

	// Once it expired (a store whose clock is past the lease), it runs once.
	future := func() time.Time { return js[0].LeaseUntil.Add(time.Second) }
	later, err := postgres.Open(ctx, dsn, future)
	if err != nil {
		t.Fatal(err)
	}
	defer later.Close()
	cfg.Now = future
	r2 := jobs.NewRunner(later, cfg, logger(t))
	r2.Handle("crash", handler)
	if n, err := r2.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("after the lease: RunOnce = %d, %v", n, err)
	}
	if n, err := r2.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("again: RunOnce = %d, %v", n, err)
	}
	j, _ := st.GetJob(ctx, js[0].ID)
	if ran != 1 || j.State != store.JobDone || j.Attempts != 2 {
		t.Fatalf("ran %d times; job = %+v", ran, j)
	}
}
