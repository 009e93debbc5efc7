package storetest

import (
	"context"
	"sync"
	"time"

	"sesame/internal/store"
)

// testJobsFinishBatch records mixed outcomes in one FinishJobs call: a lost
// lease, an unknown job and an invalid state in the middle fail alone,
// and every other outcome is applied as CompleteJob, RetryJob and BuryJob
// would apply it.
func testJobsFinishBatch(e *env) {
	errs, err := e.st.FinishJobs(e.ctx, nil)
	if err != nil || len(errs) != 0 {
		e.t.Fatalf("empty batch: %v, %v", errs, err)
	}
	keyed := store.Job{Kind: "k", DedupeKey: "p1"}
	_, err = e.st.EnqueueJob(e.ctx, &keyed)
	e.ok(err, "enqueue keyed")
	for range 6 {
		e.enqueue("k", time.Time{})
	}
	js, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Limit: 10, Lease: time.Minute})
	e.ok(err, "claim")
	if len(js) != 7 {
		e.t.Fatalf("claimed %d, want 7", len(js))
	}
	// A newer job holds the keyed one's dedupe key while it runs.
	newer := store.Job{Kind: "k", DedupeKey: "p1"}
	if ok, err := e.st.EnqueueJob(e.ctx, &newer); err != nil || !ok {
		e.t.Fatalf("enqueue the newer keyed job: %v, %v", ok, err)
	}
	// The lease of js[3] is lost: it expired and another worker took it.
	e.clock.Advance(2 * time.Minute)
	other, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Limit: 1, Lease: time.Hour})
	e.ok(err, "reclaim")
	stolen := -1
	for i, j := range js {
		if len(other) == 1 && j.ID == other[0].ID {
			stolen = i
		}
	}
	if stolen < 0 {
		// The reclaim took the newer pending job or another: steal a
		// claimed one explicitly by finishing it under its lease, so that
		// its outcome below meets a finished job (a lost lease too).
		e.t.Fatalf("reclaim took %+v, not one of the claimed jobs", other)
	}
	at := e.clock.Now().Add(time.Hour)
	outs := make([]store.JobOutcome, len(js))
	want := make([]store.JobState, len(js))
	for i, j := range js {
		switch i % 3 {
		case 0:
			outs[i] = store.JobOutcome{ID: j.ID, LeaseID: j.LeaseID, State: store.JobDone}
		case 1:
			outs[i] = store.JobOutcome{ID: j.ID, LeaseID: j.LeaseID, State: store.JobPending, RunAfter: at, LastError: "busy"}
		case 2:
			outs[i] = store.JobOutcome{ID: j.ID, LeaseID: j.LeaseID, State: store.JobDead, LastError: "refused"}
		}
		want[i] = outs[i].State
	}
	outs = append(outs,
		store.JobOutcome{ID: 999999, LeaseID: "x", State: store.JobDone},
		store.JobOutcome{ID: js[0].ID, LeaseID: js[0].LeaseID, State: store.JobRunning})
	errs, err = e.st.FinishJobs(e.ctx, outs)
	e.ok(err, "finish batch")
	if len(errs) != len(outs) {
		e.t.Fatalf("%d results for %d outcomes", len(errs), len(outs))
	}
	e.is(errs[len(outs)-2], store.ErrNotFound, "unknown job in a batch")
	e.is(errs[len(outs)-1], store.ErrInvalid, "outcome with state running")
	for i, j := range js {
		got, err := e.st.GetJob(e.ctx, j.ID)
		e.ok(err, "get")
		if i == stolen {
			e.is(errs[i], store.ErrLeaseLost, "outcome of a job whose lease was lost")
			if got.State != store.JobRunning || got.LeaseID != other[0].LeaseID {
				e.t.Fatalf("the lost job was changed: %+v", got)
			}
			continue
		}
		e.ok(errs[i], "outcome in a batch")
		if got.State != want[i] || got.LeaseID != "" {
			e.t.Fatalf("job %d: %+v, want %s", i, got, want[i])
		}
		switch want[i] {
		case store.JobPending:
			if got.LastError != "busy" || got.RunAfter.Sub(at).Abs() > time.Millisecond {
				e.t.Fatalf("retried job %+v", got)
			}
		case store.JobDead:
			if got.LastError != "refused" {
				e.t.Fatalf("buried job %+v", got)
			}
		}
	}
	// A second report of the same outcomes: every lease is gone.
	errs, err = e.st.FinishJobs(e.ctx, outs[:len(js)])
	e.ok(err, "finish again")
	for i := range js {
		e.is(errs[i], store.ErrLeaseLost, "outcome recorded twice")
	}
	// The keyed job, if it was retried, gave its key up to the newer one.
	got, _ := e.st.GetJob(e.ctx, keyed.ID)
	if got.State == store.JobPending && got.DedupeKey != "" {
		e.t.Fatalf("retried keyed job kept the key the newer job holds: %+v", got)
	}
	if ok, _ := e.st.EnqueueJob(e.ctx, &store.Job{Kind: "k", DedupeKey: "p1"}); ok {
		e.t.Fatal("the key is no longer deduplicated")
	}
	// Inside a caller's transaction too.
	j := e.enqueue("t", time.Time{})
	c, _ := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Kinds: []string{"t"}, Lease: time.Minute})
	e.ok(e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		errs, err := tx.FinishJobs(ctx, []store.JobOutcome{{ID: j.ID, LeaseID: c[0].LeaseID, State: store.JobDone}})
		if err == nil {
			err = errs[0]
		}
		return err
	}), "finish in a transaction")
	if got, _ := e.st.GetJob(e.ctx, j.ID); got.State != store.JobDone {
		e.t.Fatalf("finished in a transaction: %+v", got)
	}
	// Two running jobs reported done with each other's lease: completions
	// go by lists of ids and leases, which must still pair them exactly.
	e.enqueue("x", time.Time{})
	e.enqueue("x", time.Time{})
	two, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Kinds: []string{"x"}, Limit: 2, Lease: time.Minute})
	if err != nil || len(two) != 2 {
		e.t.Fatalf("claim two: %d, %v", len(two), err)
	}
	errs, err = e.st.FinishJobs(e.ctx, []store.JobOutcome{
		{ID: two[0].ID, LeaseID: two[1].LeaseID, State: store.JobDone},
		{ID: two[1].ID, LeaseID: two[0].LeaseID, State: store.JobDone}})
	e.ok(err, "finish with crossed leases")
	for i, x := range two {
		e.is(errs[i], store.ErrLeaseLost, "outcome with another job's lease")
		if got, _ := e.st.GetJob(e.ctx, x.ID); got.State != store.JobRunning || got.LeaseID != x.LeaseID {
			e.t.Fatalf("a job finished under another's lease: %+v", got)
		}
	}
}

// testJobsFinishRetryDedupe retries, in one batch, a keyed job whose key a
// newer pending job holds: the retried one gives its key up, both stay.
func testJobsFinishRetryDedupe(e *env) {
	j := store.Job{Kind: "ldap.person", DedupeKey: "p1"}
	_, err := e.st.EnqueueJob(e.ctx, &j)
	e.ok(err, "enqueue")
	c, _ := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Minute})
	newer := store.Job{Kind: "ldap.person", DedupeKey: "p1"}
	if ok, err := e.st.EnqueueJob(e.ctx, &newer); err != nil || !ok {
		e.t.Fatalf("enqueue while running: %v %v", ok, err)
	}
	errs, err := e.st.FinishJobs(e.ctx, []store.JobOutcome{{ID: j.ID, LeaseID: c[0].LeaseID, State: store.JobPending,
		RunAfter: e.clock.Now(), LastError: "failed"}})
	e.ok(err, "finish")
	e.ok(errs[0], "retry in a batch")
	pending, _ := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobPending})
	if len(pending) != 2 {
		e.t.Fatalf("pending = %+v, want both", pending)
	}
}

// testJobsClaimFinishConcurrent: claimers taking large batches and
// recording them with FinishJobs never get the same job twice, and every
// job ends done.
func testJobsClaimFinishConcurrent(e *env) {
	const n = 600
	for range n {
		e.enqueue("k", time.Time{})
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 6 {
		wg.Go(func() {
			for {
				js, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Limit: 64, Lease: time.Hour})
				if err != nil {
					errs <- err
					return
				}
				if len(js) == 0 {
					return
				}
				outs := make([]store.JobOutcome, len(js))
				mu.Lock()
				for i, j := range js {
					seen[j.ID]++
					outs[i] = store.JobOutcome{ID: j.ID, LeaseID: j.LeaseID, State: store.JobDone}
				}
				mu.Unlock()
				res, err := e.st.FinishJobs(e.ctx, outs)
				if err != nil {
					errs <- err
					return
				}
				for _, err := range res {
					if err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatalf("concurrent claim and finish: %v", err)
	}
	claimedOnceEach(e, seen, n)
}
