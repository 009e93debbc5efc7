package jobs_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/storetest"
)

// enqueueN adds n jobs of kind whose payloads are their numbers 0..n-1.
func enqueueN(t *testing.T, st store.Store, kind string, n int) {
	t.Helper()
	for i := range n {
		if _, err := jobs.Enqueue(context.Background(), st, kind, "", i); err != nil {
			t.Fatal(err)
		}
	}
}

func payloadNum(j store.Job) int {
	n, _ := strconv.Atoi(string(j.Payload))
	return n
}

// TestHandleBatchOutcomes checks that each job of a batch gets its own
// result: nil completes, Permanent buries, another error retries, and that
// batches never exceed their size.
func TestHandleBatchOutcomes(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store, c *storetest.Clock) {
		ctx := context.Background()
		r := jobs.NewRunner(st, testConfig(c), logger(t))
		var mu sync.Mutex
		var sizes []int
		r.HandleBatch("b.kind", 4, func(ctx context.Context, js []store.Job) []error {
			mu.Lock()
			sizes = append(sizes, len(js))
			mu.Unlock()
			errs := make([]error, len(js))
			for i, j := range js {
				switch payloadNum(j) % 3 {
				case 1:
					errs[i] = jobs.Permanent(errors.New("refused"))
				case 2:
					errs[i] = errors.New("busy")
				}
			}
			return errs
		})
		enqueueN(t, st, "b.kind", 12)
		n, err := r.RunOnce(ctx)
		if err != nil || n != 12 {
			t.Fatalf("RunOnce = %d, %v", n, err)
		}
		for _, s := range sizes {
			if s < 1 || s > 4 {
				t.Fatalf("batch sizes %v, want 1..4", sizes)
			}
		}
		all, _ := st.ListJobs(ctx, store.JobFilter{})
		for _, j := range all {
			want := []store.JobState{store.JobDone, store.JobDead, store.JobPending}[payloadNum(j)%3]
			if j.State != want {
				t.Fatalf("job %s: %s, want %s (%+v)", j.Payload, j.State, want, j)
			}
			if want == store.JobPending && (j.LastError != "busy" || !j.RunAfter.After(c.Now())) {
				t.Fatalf("retried job %+v", j)
			}
		}
	})
}

// TestHandleBatchPanicAndShortAnswer checks that a panicking batch handler
// fails its whole batch (retried), and that a result missing from a short
// answer is an error for its job only.
func TestHandleBatchPanicAndShortAnswer(t *testing.T) {
	c := storetest.NewClock()
	st := openSQLite(t, c.Now)
	ctx := context.Background()
	cfg := testConfig(c)
	cfg.Workers = 1 // one batch per kind
	r := jobs.NewRunner(st, cfg, logger(t))
	r.HandleBatch("p.panic", 10, func(ctx context.Context, js []store.Job) []error { panic("boom") })
	r.HandleBatch("s.short", 10, func(ctx context.Context, js []store.Job) []error { return []error{nil} })
	enqueueN(t, st, "p.panic", 3)
	if _, err := jobs.Enqueue(ctx, st, "s.short", "", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Enqueue(ctx, st, "s.short", "", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	all, _ := st.ListJobs(ctx, store.JobFilter{})
	short := 0
	for _, j := range all {
		switch j.Kind {
		case "p.panic":
			if j.State != store.JobPending || !strings.Contains(j.LastError, "panicked: boom") {
				t.Fatalf("panicked batch job %+v", j)
			}
		case "s.short":
			if j.State == store.JobDone {
				short++
			} else if j.State != store.JobPending || !strings.Contains(j.LastError, "returned 1 results for 2 jobs") {
				t.Fatalf("job left out of a short answer %+v", j)
			}
		}
	}
	if short != 1 {
		t.Fatalf("%d s.short jobs completed, want the one answered", short)
	}
}

// TestHandleAndHandleBatchTogether runs plain and batch kinds of one sink
// under Run, with more jobs than one claim takes, and checks that every job
// ran once and was recorded done.
func TestHandleAndHandleBatchTogether(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store, c *storetest.Clock) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := jobs.NewRunner(st, testConfig(c), logger(t))
		var mu sync.Mutex
		seen := map[int64]int{}
		note := func(j store.Job) {
			mu.Lock()
			seen[j.ID]++
			mu.Unlock()
		}
		r.Handle("m.one", func(ctx context.Context, j store.Job) error { note(j); return nil })
		r.HandleBatch("m.many", 8, func(ctx context.Context, js []store.Job) []error {
			for _, j := range js {
				note(j)
			}
			return make([]error, len(js))
		})
		enqueueN(t, st, "m.one", 50)
		enqueueN(t, st, "m.many", 70)
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()
		deadline := time.Now().Add(20 * time.Second)
		for {
			n, _ := st.CountJobs(ctx)
			if n[store.JobDone] == 120 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("jobs not all done: %v", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if len(seen) != 120 {
			t.Fatalf("%d jobs ran, want 120", len(seen))
		}
		for id, k := range seen {
			if k != 1 {
				t.Fatalf("job %d ran %d times", id, k)
			}
		}
	})
}
