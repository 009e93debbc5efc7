package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"sesame/internal/store"
)

// Handler runs one job. A nil error completes it; Permanent(err) buries it
// at once; any other error retries it later. ctx is cancelled when the
// job's lease is about to expire (or the runner stops).
type Handler func(ctx context.Context, j store.Job) error

// permanentError marks a handler error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the job is not retried: it goes dead at once
// with err as its last error. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was made by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Sink is the component a job kind writes to: the part of the kind before
// its first dot ("ldap" for "ldap.person", "mail" for "mail.activate"), or
// the whole kind when it has no dot.
func Sink(kind string) string { return store.JobSink(kind) }

// Config is the queue's policy. Zero fields take DefaultConfig's values.
type Config struct {
	// Workers is how many jobs of one sink (see Sink) run at once. Each
	// sink has workers of its own, so that a sink that hangs (a frozen
	// directory) holds only its own workers and never delays another's
	// jobs (the emails).
	Workers int
	// SinkWorkers overrides Workers for the sinks it names, e.g.
	// {"ldap": 2}.
	SinkWorkers map[string]int
	// PollInterval is how long Run waits before looking again when no job
	// was due.
	PollInterval time.Duration
	// Lease is how long a claim holds; the handler's context is cancelled
	// shortly before it ends, and the job may then be claimed again.
	Lease time.Duration
	// MaxAttempts is how many runs a job gets (unless it sets its own)
	// before it is buried.
	MaxAttempts int
	// BackoffBase and BackoffMax bound the pause before a retry: it doubles
	// with each attempt from BackoffBase, up to BackoffMax, with jitter.
	BackoffBase, BackoffMax time.Duration
	// ClaimBatch is how many jobs of a kind registered with Handle one
	// worker claims at once; it runs them one after the other. Claiming
	// (and recording) several jobs per store transaction is what lets the
	// runner keep up with thousands of short jobs a second.
	ClaimBatch int
	// Now is the clock used to schedule retries; nil means time.Now. The
	// store's own clock decides when a job is due and when a lease expired.
	Now func() time.Time
}

// DefaultConfig returns the defaults: 4 workers per sink, a poll every second,
// 5-minute leases, 10 attempts, retries from 10 seconds up to an hour, 16
// jobs of a Handle kind claimed per worker.
func DefaultConfig() Config {
	return Config{
		Workers:      4,
		PollInterval: time.Second,
		Lease:        5 * time.Minute,
		MaxAttempts:  10,
		BackoffBase:  10 * time.Second,
		BackoffMax:   time.Hour,
		ClaimBatch:   16,
		Now:          time.Now,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Workers <= 0 {
		c.Workers = d.Workers
	}
	if c.PollInterval <= 0 {
		c.PollInterval = d.PollInterval
	}
	if c.Lease <= 0 {
		c.Lease = d.Lease
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = d.BackoffBase
	}
	if c.BackoffMax < c.BackoffBase {
		c.BackoffMax = max(d.BackoffMax, c.BackoffBase)
	}
	if c.ClaimBatch <= 0 {
		c.ClaimBatch = d.ClaimBatch
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	return c
}

// workers is how many jobs of sink run at once.
func (c Config) workers(sink string) int {
	if n := c.SinkWorkers[sink]; n > 0 {
		return n
	}
	return c.Workers
}

// BatchHandler runs a batch of jobs of one kind and returns one result per
// job, at the job's index: nil completes it, Permanent(err) buries it, any
// other error retries it later, exactly as a Handler's result does for its
// one job. A result missing from a short slice counts as an error (the job
// runs again). ctx is cancelled shortly before the batch's leases expire
// (or when the runner stops); a panic fails the whole batch (it runs again).
type BatchHandler func(ctx context.Context, jobs []store.Job) []error

// BatchPreparer is a batch handler in two steps: it reads what the batch
// needs and returns the step that does the work, which the runner calls
// with the same context and whose results are a BatchHandler's. While all
// of a sink's workers are busy, the runner claims the next batches of kinds
// registered with one and prepares them meanwhile, so that a batch starts
// its work the moment a worker is free (HandleBatchPrepared). Preparing
// must change nothing: a batch prepared ahead may be given back without
// running. It reads after the claim, so a change made after the read
// enqueues a job of its own (a running job does not absorb it), which
// reads again.
type BatchPreparer func(ctx context.Context, jobs []store.Job) (work func(ctx context.Context) []error)

// entry is what runs one kind: a Handler, or a BatchPreparer (a
// BatchHandler is one whose first step does nothing), with the most jobs
// it takes at once.
type entry struct {
	one     Handler
	prepare BatchPreparer
	ahead   bool // batches are claimed and prepared ahead (HandleBatchPrepared)
	max     int
}

// Runner claims and runs jobs.
type Runner struct {
	st       store.Store
	cfg      Config
	log      *slog.Logger
	mu       sync.Mutex
	handlers map[string]entry
	kinds    []string
}

// NewRunner returns a runner over st. logger nil means slog.Default().
func NewRunner(st store.Store, cfg Config, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	return &Runner{st: st, cfg: cfg.withDefaults(), log: logger, handlers: map[string]entry{}}
}

// Handle registers h for jobs of kind; call it before Run. Only the kinds
// with a handler are claimed: jobs of other kinds are left alone. A worker
// claims up to Config.ClaimBatch jobs of such a kind at once and runs them
// one after the other, each with its own context and result.
func (r *Runner) Handle(kind string, h Handler) {
	r.register(kind, entry{one: h, max: r.cfg.ClaimBatch})
}

// HandleBatch registers h for jobs of kind, given to it up to maxBatch at a
// time (maxBatch < 1 means 1); call it before Run. It replaces any handler
// of kind.
func (r *Runner) HandleBatch(kind string, maxBatch int, h BatchHandler) {
	r.register(kind, entry{prepare: func(_ context.Context, js []store.Job) func(context.Context) []error {
		return func(ctx context.Context) []error { return h(ctx, js) }
	}, max: max(maxBatch, 1)})
}

// HandleBatchPrepared registers p for jobs of kind, as HandleBatch does a
// BatchHandler. While every worker of the kind's sink is busy, Run claims
// up to a round of the next batches of such kinds (one per worker) and
// prepares them, so that the next batch's reads overlap the running ones'
// work. A batch claimed ahead that no worker could start within half a
// lease is given back, due at once.
func (r *Runner) HandleBatchPrepared(kind string, maxBatch int, p BatchPreparer) {
	r.register(kind, entry{prepare: p, ahead: true, max: max(maxBatch, 1)})
}

func (r *Runner) register(kind string, e entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.handlers[kind]; !ok {
		r.kinds = append(r.kinds, kind)
		slices.Sort(r.kinds)
	}
	r.handlers[kind] = e
}

func (r *Runner) registered() ([]string, map[string]entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.kinds), maps.Clone(r.handlers)
}

// sinkKinds groups the registered kinds by sink, sinks in order.
func (r *Runner) sinkKinds() (sinks []string, kinds map[string][]string) {
	all, _ := r.registered()
	kinds = map[string][]string{}
	for _, k := range all {
		s := Sink(k)
		if _, ok := kinds[s]; !ok {
			sinks = append(sinks, s)
		}
		kinds[s] = append(kinds[s], k)
	}
	slices.Sort(sinks)
	return sinks, kinds
}

// perWorker is how many jobs one worker of a sink with kinds claims at
// once: the largest batch among them.
func (r *Runner) perWorker(kinds []string) int {
	_, handlers := r.registered()
	n := 1
	for _, k := range kinds {
		n = max(n, handlers[k].max)
	}
	return n
}

// Enqueue adds a job of kind with payload marshalled as JSON, through tx
// (usually the transaction of the change that needs it). It returns false
// when a pending job with the same non-empty dedupe key already exists, or
// when the kind's sink is disabled (its component is not configured: see
// store.Store.SetDisabledJobSinks).
func Enqueue(ctx context.Context, tx store.Jobs, kind, dedupeKey string, payload any) (bool, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return false, fmt.Errorf("jobs: enqueue %s: payload: %w", kind, err)
	}
	ok, err := tx.EnqueueJob(ctx, &store.Job{Kind: kind, DedupeKey: dedupeKey, Payload: b})
	if err != nil {
		return false, fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	return ok, nil
}

// unit is what one worker runs: jobs of one kind, claimed together at
// claimed (by the wall clock).
type unit struct {
	kind    string
	jobs    []store.Job
	claimed time.Time
	// prep is the preparation of a unit of a kind with a BatchPreparer,
	// once started (perhaps ahead: while its sink's workers were all busy).
	prep *preparation
}

// preparation is a BatchPreparer's first step, running or done. work and
// errs are written before done is closed: work is the second step, or nil
// when preparing panicked or returned none (errs then says so for each
// job).
type preparation struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	work   func(context.Context) []error
	errs   []error
}

// deadline is when the handler's context of a unit claimed at claimed
// ends: shortly before the lease does.
func (r *Runner) deadline(claimed time.Time) time.Time {
	margin := min(r.cfg.Lease/10, 10*time.Second)
	return claimed.Add(r.cfg.Lease - margin)
}

// prepare starts preparing u (a kind registered with a BatchPreparer)
// with a context that ends at its deadline. wg, if not nil, counts the
// preparing goroutine.
func (r *Runner) prepare(hctx context.Context, u *unit, p BatchPreparer, wg *sync.WaitGroup) {
	ctx, cancel := context.WithDeadline(hctx, r.deadline(u.claimed))
	pr := &preparation{ctx: ctx, cancel: cancel, done: make(chan struct{})}
	u.prep = pr
	if wg != nil {
		wg.Add(1)
	}
	go func() {
		if wg != nil {
			defer wg.Done()
		}
		defer close(pr.done)
		defer func() {
			if p := recover(); p != nil {
				pr.work, pr.errs = nil, failed(len(u.jobs), fmt.Errorf("jobs: batch preparer panicked: %v\n%s", p, debug.Stack()))
			}
		}()
		pr.work = p(ctx, slices.Clone(u.jobs))
		if pr.work == nil {
			pr.errs = failed(len(u.jobs), fmt.Errorf("jobs: batch preparer of %q returned no work step", u.kind))
		}
	}()
}

// failed is n copies of err.
func failed(n int, err error) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// split groups claimed jobs into at most workers units (more only when a
// kind's batch size forces it), each of one kind and no larger than that
// kind's batch, spread evenly so that the workers share the load.
func (r *Runner) split(claimed []store.Job, workers int, at time.Time) []unit {
	_, handlers := r.registered()
	byKind := map[string][]store.Job{}
	var kinds []string
	for _, j := range claimed {
		if _, ok := byKind[j.Kind]; !ok {
			kinds = append(kinds, j.Kind)
		}
		byKind[j.Kind] = append(byKind[j.Kind], j)
	}
	var out []unit
	for _, k := range kinds {
		js := byKind[k]
		size := max(handlers[k].max, 1)
		n := (len(js) + size - 1) / size
		n = max(n, min(workers, len(js)))
		for i := range n {
			lo, hi := i*len(js)/n, (i+1)*len(js)/n
			if lo < hi {
				out = append(out, unit{kind: k, jobs: js[lo:hi], claimed: at})
			}
		}
	}
	return out
}

// Run claims and runs due jobs until ctx is cancelled, each sink's jobs on
// workers of its own (Config.Workers, Config.SinkWorkers). It then stops
// claiming, gives running handlers up to min(Lease, 30s) to finish before
// cancelling their contexts, waits for them, records their outcomes, and
// returns nil. Outcomes are recorded a batch at a time, by one writer that
// takes whatever finished while it wrote the previous batch.
func (r *Runner) Run(ctx context.Context) error {
	sinks, kinds := r.sinkKinds()
	if len(sinks) == 0 {
		r.log.Warn("jobs: no handler registered, nothing will run")
	}
	hctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	rec := r.newRecorder(hctx)
	var handlers, loops sync.WaitGroup
	workers := map[string]int{}
	for _, sink := range sinks {
		// n is read here, not in the goroutine: the loop goes on writing
		// the map while the goroutines start (a data race otherwise).
		n := r.cfg.workers(sink)
		workers[sink] = n
		loops.Go(func() { r.runSink(ctx, hctx, &handlers, rec, kinds[sink], n) })
	}
	r.log.Info("jobs: runner started", "workers", workers, "kinds", kinds)
	<-ctx.Done()
	loops.Wait()
	grace := min(r.cfg.Lease, 30*time.Second)
	done := make(chan struct{})
	go func() { handlers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		r.log.Warn("jobs: handlers still running at shutdown, cancelling them", "grace", grace)
		stop()
		<-done
	}
	rec.close()
	r.log.Info("jobs: runner stopped")
	return nil
}

// claimTimeout bounds one claim, which a stopping runner does not cut
// short.
const claimTimeout = 30 * time.Second

// claim claims up to limit due jobs of kinds. The claim is not cancelled
// with ctx: a statement cut short after the database committed it (the
// rows of UPDATE ... RETURNING being read) would leave its jobs marked
// running and unseen until their leases expired, five minutes by default.
// The caller gives back what a claim took when ctx ended meanwhile.
func (r *Runner) claim(ctx context.Context, kinds []string, limit int) ([]store.Job, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
	defer cancel()
	return r.st.ClaimJobs(cctx, store.ClaimRequest{Kinds: kinds, Limit: limit, Lease: r.cfg.Lease})
}

// runSink claims and runs the jobs of one sink's kinds, at most workers
// units at a time, until ctx is cancelled. Handlers are counted in
// handlers; their outcomes go to rec. While every worker is busy, it
// claims a round of the sink's kinds that have a BatchPreparer and
// prepares them (see HandleBatchPrepared).
func (r *Runner) runSink(ctx, hctx context.Context, handlers *sync.WaitGroup, rec *recorder, kinds []string, workers int) {
	sem := make(chan struct{}, workers)
	freed := make(chan struct{}, 1)
	per := r.perWorker(kinds)
	_, hs := r.registered()
	var aheadKinds []string
	for _, k := range kinds {
		if hs[k].ahead {
			aheadKinds = append(aheadKinds, k)
		}
	}
	var ahead []unit // claimed while every worker was busy, being prepared
	giveBack := func(us []unit, why string) {
		for _, u := range us {
			if u.prep != nil {
				u.prep.cancel()
			}
			rec.add(r.givenBack(u.jobs, why)...)
		}
	}
	defer func() { giveBack(ahead, stopped(ctx.Err())) }()
	// more says whether the last claim may have left jobs due (it took
	// all it asked for, or a poll interval went by since). reading is
	// closed once the running batches have read what they need: the next
	// round is claimed and read only then, so as not to delay theirs.
	more := true
	var reading chan struct{}
	wait := func() {
		select {
		case <-ctx.Done():
		case <-freed:
		case <-reading: // nil: never
			reading = nil
		case <-time.After(r.cfg.PollInterval):
			more = true
		}
	}
	for ctx.Err() == nil {
		free := workers - len(sem)
		if free == 0 {
			if len(ahead) == 0 && len(aheadKinds) > 0 && more && reading == nil {
				var ok bool
				if ahead, more, ok = r.claimUnits(ctx, rec, aheadKinds, workers*r.perWorker(aheadKinds), workers); !ok {
					return
				}
				r.prepareUnits(hctx, handlers, ahead)
			}
			wait()
			continue
		}
		var units []unit
		if len(ahead) > 0 {
			// The batches prepared meanwhile go first; more are claimed
			// on the next turn if workers are still free.
			n := min(free, len(ahead))
			units, ahead = ahead[:n], ahead[n:]
			if old := time.Since(units[0].claimed); old > r.cfg.Lease/2 {
				giveBack(units, fmt.Sprintf("claimed ahead %s ago, and no worker was free since", old.Round(time.Millisecond)))
				continue
			}
		} else {
			var ok bool
			if units, more, ok = r.claimUnits(ctx, rec, kinds, free*per, free); !ok {
				return
			}
		}
		if preps := r.prepareUnits(hctx, handlers, units); len(preps) > 0 {
			before, ch := reading, make(chan struct{})
			go func() {
				if before != nil {
					<-before
				}
				for _, pr := range preps {
					<-pr.done
				}
				close(ch)
			}()
			reading = ch
		}
		for i, u := range units {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				// Stopping with claimed jobs not started: give them back.
				giveBack(units[i:], stopped(ctx.Err()))
				return
			}
			handlers.Add(1)
			go func() {
				defer func() {
					<-sem
					select {
					case freed <- struct{}{}:
					default:
					}
					handlers.Done()
				}()
				rec.add(r.runUnit(hctx, ctx, u)...)
			}()
		}
		if len(ahead) > 0 || more {
			continue // more may be due
		}
		wait()
	}
}

// claimUnits claims up to limit due jobs of kinds, records the burial of
// those whose runs never reported back, and splits the others into at most
// n units. more says whether the claim took all it asked for; ok is false
// when the runner is stopping (what the claim took went back).
func (r *Runner) claimUnits(ctx context.Context, rec *recorder, kinds []string, limit, n int) (units []unit, more, ok bool) {
	at := time.Now() // the wall clock: it bounds the handlers' contexts
	claimed, err := r.claim(ctx, kinds, limit)
	if ctx.Err() != nil {
		rec.add(r.interrupted(claimed, ctx.Err())...)
		return nil, false, false
	}
	if err != nil {
		r.log.Error("jobs: claim failed", "kinds", kinds, "err", err)
		return nil, false, true
	}
	run, buried := r.sortOut(claimed)
	rec.add(buried...)
	return r.split(run, n, at), len(claimed) == limit, true
}

// prepareUnits starts the first step of each unit of a batch kind that
// has not started it yet (counted in handlers), and returns every unit's
// preparation.
func (r *Runner) prepareUnits(hctx context.Context, handlers *sync.WaitGroup, units []unit) []*preparation {
	_, hs := r.registered()
	var preps []*preparation
	for i := range units {
		if p := hs[units[i].kind].prepare; p != nil && units[i].prep == nil {
			r.prepare(hctx, &units[i], p, handlers)
		}
		if units[i].prep != nil {
			preps = append(preps, units[i].prep)
		}
	}
	return preps
}

// RunOnce claims and runs every job that is due now (including those that
// become due while it runs), each sink's jobs Workers units at a time and
// the sinks side by side, and returns how many it ran. Each round's
// outcomes are recorded together when the round ends. It is for tests, the
// CLI ("converge now") and benchmarks.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	sinks, kinds := r.sinkKinds()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		n    int
		errs []error
	)
	for _, sink := range sinks {
		wg.Go(func() {
			ran, err := r.runSinkOnce(ctx, kinds[sink], r.cfg.workers(sink))
			mu.Lock()
			defer mu.Unlock()
			n += ran
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return n, errors.Join(errs...)
}

// runSinkOnce is RunOnce for one sink's kinds.
func (r *Runner) runSinkOnce(ctx context.Context, kinds []string, workers int) (int, error) {
	n := 0
	per := r.perWorker(kinds)
	for {
		at := time.Now() // the wall clock: it bounds the handlers' contexts
		claimed, err := r.claim(ctx, kinds, workers*per)
		if err != nil {
			return n, fmt.Errorf("jobs: claim: %w", err)
		}
		if ctx.Err() != nil {
			r.finish(ctx, r.interrupted(claimed, ctx.Err()))
			return n, ctx.Err()
		}
		if len(claimed) == 0 {
			return n, nil
		}
		run, outs := r.sortOut(claimed)
		units := r.split(run, workers, at)
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			sem = make(chan struct{}, workers)
		)
		for _, u := range units {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				o := r.runUnit(ctx, ctx, u)
				mu.Lock()
				outs = append(outs, o...)
				mu.Unlock()
			})
		}
		wg.Wait()
		r.finish(ctx, outs)
		n += len(claimed)
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
}

// outcome is what to record for one job that ran.
type outcome struct {
	store.JobOutcome
	log *slog.Logger
}

// maxAttempts is the number of runs j gets.
func (r *Runner) maxAttempts(j store.Job) int {
	if j.MaxAttempts > 0 {
		return j.MaxAttempts
	}
	return r.cfg.MaxAttempts
}

func (r *Runner) jobLog(j store.Job) *slog.Logger {
	return r.log.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempts)
}

// sortOut returns the claimed jobs to run, and the outcomes of those to
// bury without running: their earlier runs never reported back past their
// last attempt.
func (r *Runner) sortOut(claimed []store.Job) (run []store.Job, buried []outcome) {
	run = claimed[:0:0]
	for _, j := range claimed {
		if m := r.maxAttempts(j); j.Attempts > m {
			// Its earlier runs never reported back (the worker died or the
			// lease kept expiring): do not run it again.
			log := r.jobLog(j)
			log.Error("jobs: burying job whose runs never finished", "max_attempts", m)
			msg := fmt.Sprintf("gave up after %d attempts: the last runs never finished (lease expired); last error: %s", m, j.LastError)
			buried = append(buried, r.dead(log, j, msg))
			continue
		}
		run = append(run, j)
	}
	return run, buried
}

// runUnit runs one unit's jobs and returns their outcomes. hctx is the base
// of the handler's context; runCtx says whether the runner is stopping.
func (r *Runner) runUnit(hctx, runCtx context.Context, u unit) []outcome {
	if len(u.jobs) == 0 {
		return nil
	}
	outs := make([]outcome, 0, len(u.jobs))
	_, handlers := r.registered()
	h := handlers[u.kind]
	if h.prepare != nil {
		for i, err := range r.callPrepared(hctx, h.prepare, u) {
			outs = append(outs, r.decide(runCtx, u.jobs[i], err))
		}
		return outs
	}
	deadline := r.deadline(u.claimed)
	for _, j := range u.jobs {
		outs = append(outs, r.decide(runCtx, j, r.call(hctx, deadline, h.one, j)))
	}
	return outs
}

// callPrepared runs a BatchPreparer's two steps for u (the first perhaps
// started already: u.prep) and returns exactly one result per job: a
// panic, or a result missing from a short answer, is an error.
func (r *Runner) callPrepared(hctx context.Context, p BatchPreparer, u unit) (errs []error) {
	if u.prep == nil {
		r.prepare(hctx, &u, p, nil)
	}
	pr := u.prep
	defer pr.cancel()
	<-pr.done
	if pr.work == nil {
		return pr.errs
	}
	defer func() {
		if p := recover(); p != nil {
			errs = failed(len(u.jobs), fmt.Errorf("jobs: batch handler panicked: %v\n%s", p, debug.Stack()))
		}
	}()
	got := pr.work(pr.ctx)
	errs = make([]error, len(u.jobs))
	for i := range errs {
		if i < len(got) {
			errs[i] = got[i]
		} else {
			errs[i] = fmt.Errorf("jobs: batch handler of %q returned %d results for %d jobs", u.kind, len(got), len(u.jobs))
		}
	}
	return errs
}

// interrupted returns the outcomes of jobs claimed but not started when the
// runner stopped: due again at once.
func (r *Runner) interrupted(js []store.Job, err error) []outcome {
	return r.givenBack(js, stopped(err))
}

// stopped is why jobs not started when the runner stopped go back.
func stopped(err error) string {
	return "interrupted by shutdown before it ran: " + err.Error()
}

// givenBack returns the outcomes of jobs claimed and given back without
// running, for why: due again at once, the attempt their claim counted taken back.
func (r *Runner) givenBack(js []store.Job, why string) []outcome {
	outs := make([]outcome, 0, len(js))
	for _, j := range js {
		outs = append(outs, outcome{store.JobOutcome{ID: j.ID, LeaseID: j.LeaseID, State: store.JobPending,
			RunAfter: r.cfg.Now(), LastError: why, Uncount: true}, r.jobLog(j)})
	}
	return outs
}

func (r *Runner) dead(log *slog.Logger, j store.Job, msg string) outcome {
	return outcome{store.JobOutcome{ID: j.ID, LeaseID: j.LeaseID, State: store.JobDead, LastError: msg}, log}
}

// decide turns a handler's result for j into the outcome to record.
func (r *Runner) decide(runCtx context.Context, j store.Job, err error) outcome {
	log := r.jobLog(j)
	m := r.maxAttempts(j)
	retry := func(at time.Time, msg string) outcome {
		return outcome{store.JobOutcome{ID: j.ID, LeaseID: j.LeaseID, State: store.JobPending, RunAfter: at, LastError: msg}, log}
	}
	switch {
	case err == nil:
		return outcome{store.JobOutcome{ID: j.ID, LeaseID: j.LeaseID, State: store.JobDone}, log}
	case IsPermanent(err):
		log.Error("jobs: job failed permanently, burying it", "err", err)
		return r.dead(log, j, err.Error())
	case runCtx.Err() != nil && errors.Is(err, context.Canceled):
		log.Warn("jobs: job interrupted by shutdown, it will run again", "err", err)
		o := retry(r.cfg.Now(), "interrupted by shutdown: "+err.Error())
		o.Uncount = true // cut short by the stop: it still gets its runs
		return o
	case j.Attempts >= m:
		log.Error("jobs: job failed for the last time, burying it", "err", err, "max_attempts", m)
		return r.dead(log, j, err.Error())
	default:
		wait := r.backoff(j.Attempts)
		log.Warn("jobs: job failed, will retry", "err", err, "retry_in", wait)
		return retry(r.cfg.Now().Add(wait), err.Error())
	}
}

// call runs h with a context that ends at deadline (shortly before the
// lease does), and turns a panic into an error.
func (r *Runner) call(hctx context.Context, deadline time.Time, h Handler, j store.Job) (err error) {
	if h == nil {
		return Permanent(fmt.Errorf("jobs: no handler for kind %q", j.Kind))
	}
	ctx, cancel := context.WithDeadline(hctx, deadline)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("jobs: handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, j)
}

// finish records outcomes in one store call, and logs those it could not
// record: a lost lease means another worker owns the job now.
func (r *Runner) finish(ctx context.Context, outs []outcome) {
	if len(outs) == 0 {
		return
	}
	// Store calls outlive a cancelled Run: the outcome must be recorded.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	batch := make([]store.JobOutcome, len(outs))
	for i, o := range outs {
		batch[i] = o.JobOutcome
	}
	errs, err := r.st.FinishJobs(sctx, batch)
	if err != nil {
		r.log.Error("jobs: cannot record the outcomes of a batch; its jobs will run again when their leases expire",
			"jobs", len(outs), "err", err)
		return
	}
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, store.ErrLeaseLost):
			outs[i].log.Warn("jobs: lease lost before the result was recorded; another worker has the job", "err", err)
		default:
			outs[i].log.Error("jobs: cannot record the job's outcome; it will run again when its lease expires", "err", err)
		}
	}
}

// recorder records the outcomes of Run's workers: one goroutine writes
// whatever accumulated while it wrote the previous batch (a group commit),
// so a crash loses at most the batch being written and those queued behind
// it, which then run again when their leases expire.
type recorder struct {
	r    *Runner
	ctx  context.Context
	ch   chan []outcome
	done chan struct{}
}

// maxFlush bounds how many outcomes one store call records.
const maxFlush = 1000

func (r *Runner) newRecorder(ctx context.Context) *recorder {
	rec := &recorder{r: r, ctx: ctx, ch: make(chan []outcome, 256), done: make(chan struct{})}
	go rec.loop()
	return rec
}

func (rec *recorder) add(outs ...outcome) {
	if len(outs) > 0 {
		rec.ch <- outs
	}
}

// close records what is queued and stops the writer.
func (rec *recorder) close() {
	close(rec.ch)
	<-rec.done
}

func (rec *recorder) loop() {
	defer close(rec.done)
	for first := range rec.ch {
		outs := first
	drain:
		for len(outs) < maxFlush {
			select {
			case more, ok := <-rec.ch:
				if !ok {
					break drain
				}
				outs = append(outs, more...)
			default:
				break drain
			}
		}
		rec.r.finish(rec.ctx, outs)
	}
}

// backoff is the pause before the retry that follows attempt (1-based):
// BackoffBase doubled per attempt, capped at BackoffMax, the upper half
// jittered, never below BackoffBase.
func (r *Runner) backoff(attempt int) time.Duration {
	d := r.cfg.BackoffBase
	for i := 1; i < attempt && d < r.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, r.cfg.BackoffMax)
	d = d/2 + rand.N(d/2+1)
	return max(d, r.cfg.BackoffBase)
}
