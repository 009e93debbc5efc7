package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/storetest"
)

// TestGivenBackJobStillRuns: a job claimed and given back without running
// (the runner stopping: claimed after the stop began, or claimed ahead and
// not started), or whose run was interrupted by the shutdown ("it will run
// again"), is run again by the next runner, even when that claim used its
// last attempt. Before, the next claim found more attempts than allowed and
// buried it unrun as "the last runs never finished", though every earlier
// claim had reported back.
func TestGivenBackJobStillRuns(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store, c *storetest.Clock) {
		ctx := context.Background()
		cfg := testConfig(c)
		cfg.MaxAttempts = 1
		r := jobs.NewRunner(st, cfg, logger(t))
		var runsA, runsB atomic.Int32
		var stopB atomic.Pointer[context.CancelFunc]
		r.Handle("a.given-back", func(context.Context, store.Job) error {
			runsA.Add(1)
			return nil
		})
		r.Handle("b.interrupted", func(hctx context.Context, j store.Job) error {
			if runsB.Add(1) == 1 {
				(*stopB.Load())() // the runner stops while the job runs
				<-hctx.Done()
				return hctx.Err()
			}
			return nil
		})
		check := func(kind string, runs *atomic.Int32) {
			t.Helper()
			js, err := st.ListJobs(ctx, store.JobFilter{Kind: kind})
			if err != nil {
				t.Fatal(err)
			}
			if len(js) != 1 || js[0].State != store.JobDone || runs.Load() == 0 {
				t.Errorf("%s: handler ran %d times; job %s after %d attempts: %q", kind, runs.Load(),
					js[0].State, js[0].Attempts, js[0].LastError)
			}
		}

		// 1. Claimed while the runner is stopping: given back, never run.
		if _, err := jobs.Enqueue(ctx, st, "a.given-back", "", nil); err != nil {
			t.Fatal(err)
		}
		stopped, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := r.RunOnce(stopped); err == nil {
			t.Fatal("RunOnce on a stopped context: no error")
		}
		if runsA.Load() != 0 {
			t.Fatal("a stopped runner ran a job")
		}

		// 2. Interrupted by the shutdown while it ran: "it will run again".
		if _, err := jobs.Enqueue(ctx, st, "b.interrupted", "", nil); err != nil {
			t.Fatal(err)
		}
		runCtx, cancelRun := context.WithCancel(ctx)
		stopB.Store(&cancelRun)
		_, _ = r.RunOnce(runCtx)

		// The next runner.
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		check("a.given-back", &runsA)
		check("b.interrupted", &runsB)
	})
}
