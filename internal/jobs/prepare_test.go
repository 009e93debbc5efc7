package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/storetest"
)

// preparedKind records what a BatchPreparer's two steps see: per job, how
// many times it was prepared and worked, and whether a work step ran on
// jobs prepared by another call.
type preparedKind struct {
	mu       sync.Mutex
	prepared map[int64]int
	worked   map[int64]int
	working  int  // work steps running now
	mixed    bool // a work step was given jobs its preparation did not read
	// block, when not nil, holds every work step until it is closed.
	block chan struct{}
}

func newPreparedKind() *preparedKind {
	return &preparedKind{prepared: map[int64]int{}, worked: map[int64]int{}}
}

func (k *preparedKind) prepare(ctx context.Context, js []store.Job) func(context.Context) []error {
	read := map[int64]bool{}
	k.mu.Lock()
	for _, j := range js {
		k.prepared[j.ID]++
		read[j.ID] = true
	}
	k.mu.Unlock()
	return func(ctx context.Context) []error {
		k.mu.Lock()
		k.working++
		block := k.block
		for _, j := range js {
			k.worked[j.ID]++
			if !read[j.ID] {
				k.mixed = true
			}
		}
		k.mu.Unlock()
		if block != nil {
			<-block
		}
		k.mu.Lock()
		k.working--
		k.mu.Unlock()
		return make([]error, len(js))
	}
}

// newBlockedKind returns a preparedKind whose work steps wait for unblock.
func newBlockedKind() *preparedKind {
	k := newPreparedKind()
	k.block = make(chan struct{})
	return k
}

// unblock lets the waiting work steps (and every later one) go on.
func (k *preparedKind) unblock() {
	k.mu.Lock()
	defer k.mu.Unlock()
	close(k.block)
	k.block = nil
}

// waitPrepared waits until n jobs have been prepared.
func (k *preparedKind) waitPrepared(t *testing.T, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d jobs prepared", n), func() bool {
		p, _, _ := k.counts()
		return p == n
	})
}

func (k *preparedKind) counts() (prepared, worked, working int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.prepared), len(k.worked), k.working
}

// runUntilDone runs r until every one of n jobs is done.
func runUntilDone(t *testing.T, st store.Store, r *jobs.Runner, n int, during func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	if during != nil {
		during()
	}
	waitUntil(t, "every job done", func() bool {
		c, _ := st.CountJobs(context.Background())
		return c[store.JobDone] == n
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPreparedBatchesAhead checks that while every worker is busy, the
// runner claims the next round of a BatchPreparer's kind and prepares it
// without starting its work, that a batch works on the jobs it prepared,
// and that every job is prepared and worked exactly once.
func TestPreparedBatchesAhead(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store, c *storetest.Clock) {
		cfg := testConfig(c) // 2 workers
		r := jobs.NewRunner(st, cfg, logger(t))
		k := newBlockedKind()
		r.HandleBatchPrepared("a.prep", 5, k.prepare)
		enqueueN(t, st, "a.prep", 40)
		runUntilDone(t, st, r, 40, func() {
			// Round one (2 batches of 5) works and blocks; round two
			// (10 more jobs) is claimed and prepared meanwhile.
			k.waitPrepared(t, 20)
			time.Sleep(50 * time.Millisecond) // nothing more may happen
			p, w, working := k.counts()
			if p != 20 || w != 10 || working != 2 {
				t.Errorf("with both workers busy: %d prepared, %d worked, %d working; want 20, 10, 2", p, w, working)
			}
			c, _ := st.CountJobs(context.Background())
			if c[store.JobRunning] != 20 || c[store.JobPending] != 20 {
				t.Errorf("with both workers busy: %v, want 20 running (10 claimed ahead) and 20 pending", c)
			}
			k.unblock()
		})
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.mixed {
			t.Error("a work step was given jobs it did not prepare")
		}
		for id, n := range k.worked {
			if n != 1 || k.prepared[id] != 1 {
				t.Errorf("job %d prepared %d times and worked %d times, want once each", id, k.prepared[id], n)
			}
		}
		if len(k.worked) != 40 {
			t.Errorf("%d jobs worked, want 40", len(k.worked))
		}
	})
}

// TestPreparedAheadGivenBack checks that batches claimed ahead go back to
// the queue, due at once and with their preparation cancelled, when the
// runner stops before a worker is free for them, and when no worker frees
// within half a lease (they are then claimed and prepared again, and run
// once).
func TestPreparedAheadGivenBack(t *testing.T) {
	t.Run("stop", func(t *testing.T) {
		c := storetest.NewClock()
		st := openSQLite(t, c.Now)
		r := jobs.NewRunner(st, testConfig(c), logger(t))
		k := newBlockedKind()
		cancelled := make(chan struct{}, 10)
		r.HandleBatchPrepared("a.prep", 5, func(ctx context.Context, js []store.Job) func(context.Context) []error {
			work := k.prepare(ctx, js)
			go func() {
				<-ctx.Done()
				cancelled <- struct{}{}
			}()
			return work
		})
		enqueueN(t, st, "a.prep", 20)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		k.waitPrepared(t, 20)
		cancel()
		k.unblock()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		_, w, _ := k.counts()
		if w != 10 {
			t.Fatalf("%d jobs worked, want the 10 started before the stop", w)
		}
		for range 4 { // every batch's context ends
			select {
			case <-cancelled:
			case <-time.After(10 * time.Second):
				t.Fatal("a preparation's context was not cancelled")
			}
		}
		all, _ := st.ListJobs(context.Background(), store.JobFilter{Limit: 100})
		back := 0
		for _, j := range all {
			switch {
			case j.State == store.JobDone:
			case j.State == store.JobPending && strings.Contains(j.LastError, "interrupted by shutdown before it ran") && !j.RunAfter.After(c.Now()):
				back++
			default:
				t.Errorf("job %d left %s (%q)", j.ID, j.State, j.LastError)
			}
		}
		if back != 10 {
			t.Fatalf("%d jobs given back, want the 10 claimed ahead", back)
		}
	})
	t.Run("stale", func(t *testing.T) {
		c := storetest.NewClock()
		st := openSQLite(t, c.Now)
		cfg := testConfig(c)
		cfg.Lease = time.Second
		r := jobs.NewRunner(st, cfg, logger(t))
		k := newBlockedKind()
		r.HandleBatchPrepared("a.prep", 5, k.prepare)
		enqueueN(t, st, "a.prep", 20)
		runUntilDone(t, st, r, 20, func() {
			k.waitPrepared(t, 20)
			// Past half a lease, short of the handlers' deadline.
			time.Sleep(700 * time.Millisecond)
			k.unblock()
		})
		k.mu.Lock()
		defer k.mu.Unlock()
		again := 0
		for id, n := range k.worked {
			if n != 1 {
				t.Errorf("job %d worked %d times", id, n)
			}
			if k.prepared[id] == 2 {
				again++
			}
		}
		k.mu.Unlock()
		// The jobs given back keep why as their last error, and their
		// claim's attempt was taken back (one attempt: the run).
		all, _ := st.ListJobs(context.Background(), store.JobFilter{Limit: 100})
		for _, j := range all {
			if j.State != store.JobDone {
				t.Errorf("job %d: %s", j.ID, j.State)
			}
			if k.prepared[j.ID] == 2 && (j.Attempts != 1 || !strings.Contains(j.LastError, "claimed ahead")) {
				t.Errorf("job %d given back: %d attempts, last error %q", j.ID, j.Attempts, j.LastError)
			}
		}
		k.mu.Lock()
		if len(k.worked) != 20 || again != 10 {
			t.Fatalf("%d jobs worked (want 20), %d prepared twice (want the 10 given back)", len(k.worked), again)
		}
	})
}

// TestPreparerPanics checks that a preparer's panic fails its batch (to be
// retried), as a batch handler's does, with RunOnce (which prepares each
// batch just before its work).
func TestPreparerPanics(t *testing.T) {
	c := storetest.NewClock()
	st := openSQLite(t, c.Now)
	r := jobs.NewRunner(st, testConfig(c), logger(t))
	r.HandleBatchPrepared("a.panic", 5, func(ctx context.Context, js []store.Job) func(context.Context) []error {
		panic("no store")
	})
	// A preparer that returns no work step must not leave its jobs
	// without an outcome (running until their lease ends).
	r.HandleBatchPrepared("a.nil", 5, func(ctx context.Context, js []store.Job) func(context.Context) []error {
		return nil
	})
	k := newPreparedKind()
	r.HandleBatchPrepared("a.fine", 5, k.prepare)
	enqueueN(t, st, "a.panic", 3)
	enqueueN(t, st, "a.nil", 2)
	enqueueN(t, st, "a.fine", 7)
	if n, err := r.RunOnce(context.Background()); err != nil || n != 12 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	all, _ := st.ListJobs(context.Background(), store.JobFilter{})
	for _, j := range all {
		switch j.Kind {
		case "a.panic":
			if j.State != store.JobPending || !strings.Contains(j.LastError, "preparer panicked: no store") {
				t.Errorf("job of a panicking preparer: %+v", j)
			}
		case "a.nil":
			if j.State != store.JobPending || !strings.Contains(j.LastError, "returned no work step") {
				t.Errorf("job of a preparer without a work step: %+v", j)
			}
		default:
			if j.State != store.JobDone {
				t.Errorf("job %+v", j)
			}
		}
	}
	if _, w, _ := k.counts(); w != 7 {
		t.Fatalf("%d jobs worked, want 7", w)
	}
}

// TestClaimAheadAfterReads checks that the next round is claimed only once
// the running batches have read what they need (their first step done):
// claiming and reading ahead must not delay the reads the running work
// waits for.
func TestClaimAheadAfterReads(t *testing.T) {
	c := storetest.NewClock()
	st := openSQLite(t, c.Now)
	r := jobs.NewRunner(st, testConfig(c), logger(t)) // 2 workers
	k := newBlockedKind()
	reads := make(chan struct{}) // closed: the first step returns
	r.HandleBatchPrepared("a.prep", 5, func(ctx context.Context, js []store.Job) func(context.Context) []error {
		<-reads
		return k.prepare(ctx, js)
	})
	enqueueN(t, st, "a.prep", 30)
	runUntilDone(t, st, r, 30, func() {
		waitUntil(t, "the first batches claimed", func() bool {
			c, _ := st.CountJobs(context.Background())
			return c[store.JobRunning] == 10
		})
		time.Sleep(100 * time.Millisecond) // ten poll intervals
		if c, _ := st.CountJobs(context.Background()); c[store.JobRunning] != 10 {
			t.Errorf("while the first batches read: %v, want only their 10 jobs claimed", c)
		}
		close(reads)
		k.waitPrepared(t, 20)
		k.unblock()
	})
	if _, w, _ := k.counts(); w != 30 {
		t.Fatalf("%d jobs worked, want 30", w)
	}
}
