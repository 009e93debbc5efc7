package jobs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
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

// The test binary is also the child process of the multi-process tests:
// TestMain runs the child named by childModeEnv instead of the tests, so
// that no test shows as skipped in a normal run.
const (
	childModeEnv    = "SESAME_JOBS_TEST_CHILD"         // "killed-worker" or "runner"
	childDSNEnv     = "SESAME_JOBS_TEST_CHILD_DSN"     // the PostgreSQL database
	childNameEnv    = "SESAME_JOBS_TEST_CHILD_NAME"    // the runner's name
	childBarrierEnv = "SESAME_JOBS_TEST_CHILD_BARRIER" // the barrier's directory
)

func TestMain(m *testing.M) {
	switch os.Getenv(childModeEnv) {
	case "":
		os.Exit(m.Run())
	case "killed-worker":
		os.Exit(child(killedWorkerChild))
	case "runner":
		os.Exit(child(runnerChild))
	default:
		fmt.Fprintf(os.Stderr, "%s=%q: unknown child\n", childModeEnv, os.Getenv(childModeEnv))
		os.Exit(2)
	}
}

// child runs fn and turns its error into an exit status.
func child(fn func() error) int {
	if err := fn(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// barrier makes the first job of each runner wait until the other runner
// has started a job too, so that a test passes only when both runners
// provably ran jobs (and fails, rather than hangs, after 30 seconds if one
// never does: the job goes dead with the reason). Runners meet through files in a directory, which works
// across processes.
type barrier struct {
	dir, self, other string
	once             sync.Once
}

func (b *barrier) wait(ctx context.Context) error {
	b.once.Do(func() { _ = os.WriteFile(filepath.Join(b.dir, b.self), nil, 0o600) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(b.dir, b.other)); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return jobs.Permanent(fmt.Errorf("runner %s: runner %s started no job within 30 seconds", b.self, b.other))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// countHandler records, for each "count" job, which runner ran it; every
// job first passes the barrier.
func countHandler(b *barrier, record func(i int)) jobs.Handler {
	return func(ctx context.Context, j store.Job) error {
		var p struct{ I int }
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			return jobs.Permanent(err)
		}
		if err := b.wait(ctx); err != nil {
			return err
		}
		record(p.I)
		return nil
	}
}

func enqueueCount(t *testing.T, st store.Store, n int) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
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
}

// waitAllDone waits until n jobs are done, failing the test on a dead job
// or after a minute.
func waitAllDone(t *testing.T, st store.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		counts, err := st.CountJobs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.JobDone] == n {
			return
		}
		if counts[store.JobDead] > 0 || time.Now().After(deadline) {
			dead, _ := st.ListJobs(context.Background(), store.JobFilter{State: store.JobDead, Limit: 1})
			t.Fatalf("not done: %v %+v", counts, dead)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkExactlyOnce fails unless each of n jobs ran once, and each runner
// ran some.
func checkExactlyOnce(t *testing.T, n int, runs map[int]int, by map[string]int) {
	t.Helper()
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
		t.Fatalf("one runner took every job: %v", by)
	}
}

// TestTwoRunnersExactlyOnce runs two runners, each on its own connection
// pool, over 500 jobs: every job runs once, and the barrier makes both
// runners run some.
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
	enqueueCount(t, a, n)

	var mu sync.Mutex
	runs := map[int]int{}
	by := map[string]int{}
	dir := t.TempDir()
	cfg := jobs.DefaultConfig()
	cfg.Workers = 4
	cfg.PollInterval = 5 * time.Millisecond
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for name, st := range map[string]store.Store{"a": a, "b": b} {
		other := map[string]string{"a": "b", "b": "a"}[name]
		r := jobs.NewRunner(st, cfg, logger(t).With("runner", name))
		r.Handle("count", countHandler(&barrier{dir: dir, self: name, other: other}, func(i int) {
			mu.Lock()
			defer mu.Unlock()
			runs[i]++
			by[name]++
		}))
		wg.Go(func() {
			if err := r.Run(rctx); err != nil {
				t.Errorf("runner %s: %v", name, err)
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()
	waitAllDone(t, a, n)
	cancel()
	wg.Wait()
	checkExactlyOnce(t, n, runs, by)
}

// TestTwoProcessesExactlyOnce is TestTwoRunnersExactlyOnce with the two
// runners in two processes of their own, as two replicas of sesame.
func TestTwoProcessesExactlyOnce(t *testing.T) {
	dsn := testenv.Postgres(t)
	st := openPostgres(t, dsn, nil)
	const n = 500
	enqueueCount(t, st, n)
	dir := t.TempDir()

	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   chan []string
	}
	procs := map[string]*proc{}
	for _, name := range []string{"a", "b"} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childModeEnv+"=runner", childDSNEnv+"="+dsn, childNameEnv+"="+name,
			childBarrierEnv+"="+dir)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &proc{cmd: cmd, stdin: stdin, out: make(chan []string, 1)}
		go func() {
			var lines []string
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			p.out <- lines
		}()
		procs[name] = p
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	waitAllDone(t, st, n)

	runs := map[int]int{}
	by := map[string]int{}
	for name, p := range procs {
		_ = p.stdin.Close() // the child stops its runner and exits
		lines := <-p.out
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("runner process %s: %v", name, err)
		}
		for _, l := range lines {
			var i int
			if _, err := fmt.Sscanf(l, "RAN %d", &i); err != nil {
				t.Fatalf("runner process %s printed %q", name, l)
			}
			runs[i]++
			by[name]++
		}
	}
	checkExactlyOnce(t, n, runs, by)
}

// runnerChild is a runner process of TestTwoProcessesExactlyOnce: it runs
// the "count" jobs, printing "RAN i" for each, until its stdin closes.
func runnerChild() error {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv(childDSNEnv), nil)
	if err != nil {
		return err
	}
	defer st.Close()
	name := os.Getenv(childNameEnv)
	other := map[string]string{"a": "b", "b": "a"}[name]
	cfg := jobs.DefaultConfig()
	cfg.Workers = 4
	cfg.PollInterval = 5 * time.Millisecond
	r := jobs.NewRunner(st, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	r.Handle("count", countHandler(&barrier{dir: os.Getenv(childBarrierEnv), self: name, other: other}, func(i int) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "RAN %d\n", i)
	}))
	rctx, cancel := context.WithCancel(ctx)
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()
	err = r.Run(rctx)
	mu.Lock()
	defer mu.Unlock()
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}

// killedWorkerChild is the child process of TestKilledWorker: it claims
// the job with a short lease, says so, and blocks in the handler until it
// is killed.
func killedWorkerChild() error {
	st, err := postgres.Open(context.Background(), os.Getenv(childDSNEnv), nil)
	if err != nil {
		return err
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
	return errors.New("the handler returned")
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

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childModeEnv+"=killed-worker", childDSNEnv+"="+dsn)
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
