package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
	// Now is the clock used to schedule retries; nil means time.Now. The
	// store's own clock decides when a job is due and when a lease expired.
	Now func() time.Time
}

// DefaultConfig returns the defaults: 4 workers per sink, a poll every second,
// 5-minute leases, 10 attempts, retries from 10 seconds up to an hour.
func DefaultConfig() Config {
	return Config{
		Workers:      4,
		PollInterval: time.Second,
		Lease:        5 * time.Minute,
		MaxAttempts:  10,
		BackoffBase:  10 * time.Second,
		BackoffMax:   time.Hour,
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

// Runner claims and runs jobs.
type Runner struct {
	st       store.Store
	cfg      Config
	log      *slog.Logger
	mu       sync.Mutex
	handlers map[string]Handler
	kinds    []string
}

// NewRunner returns a runner over st. logger nil means slog.Default().
func NewRunner(st store.Store, cfg Config, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	return &Runner{st: st, cfg: cfg.withDefaults(), log: logger, handlers: map[string]Handler{}}
}

// Handle registers h for jobs of kind; call it before Run. Only the kinds
// with a handler are claimed: jobs of other kinds are left alone.
func (r *Runner) Handle(kind string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.handlers[kind]; !ok {
		r.kinds = append(r.kinds, kind)
		slices.Sort(r.kinds)
	}
	r.handlers[kind] = h
}

func (r *Runner) registered() ([]string, map[string]Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.kinds), r.handlers
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

// Run claims and runs due jobs until ctx is cancelled, each sink's jobs on
// workers of its own (Config.Workers, Config.SinkWorkers). It then stops
// claiming, gives running handlers up to min(Lease, 30s) to finish before
// cancelling their contexts, waits for them, and returns nil.
func (r *Runner) Run(ctx context.Context) error {
	sinks, kinds := r.sinkKinds()
	if len(sinks) == 0 {
		r.log.Warn("jobs: no handler registered, nothing will run")
	}
	hctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	var handlers, loops sync.WaitGroup
	workers := map[string]int{}
	for _, sink := range sinks {
		// n is read here, not in the goroutine: the loop goes on writing
		// the map while the goroutines start (a data race otherwise).
		n := r.cfg.workers(sink)
		workers[sink] = n
		loops.Go(func() { r.runSink(ctx, hctx, &handlers, kinds[sink], n) })
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
	r.log.Info("jobs: runner stopped")
	return nil
}

// runSink claims and runs the jobs of one sink's kinds, at most workers at
// a time, until ctx is cancelled. Handlers are counted in handlers.
func (r *Runner) runSink(ctx, hctx context.Context, handlers *sync.WaitGroup, kinds []string, workers int) {
	sem := make(chan struct{}, workers)
	freed := make(chan struct{}, 1)
	for ctx.Err() == nil {
		free := workers - len(sem)
		if free == 0 {
			select {
			case <-ctx.Done():
			case <-freed:
			case <-time.After(r.cfg.PollInterval):
			}
			continue
		}
		claimed, err := r.st.ClaimJobs(ctx, store.ClaimRequest{Kinds: kinds, Limit: free, Lease: r.cfg.Lease})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Error("jobs: claim failed", "kinds", kinds, "err", err)
			claimed = nil
		}
		for _, j := range claimed {
			sem <- struct{}{}
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
				r.process(hctx, ctx, j)
			}()
		}
		if err == nil && len(claimed) == free {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
		case <-freed:
		case <-time.After(r.cfg.PollInterval):
		}
	}
}

// RunOnce claims and runs every job that is due now (including those that
// become due while it runs), each sink's jobs Workers at a time and the
// sinks side by side, and returns how many it ran. It is for tests and the
// CLI ("converge now").
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
	for {
		claimed, err := r.st.ClaimJobs(ctx, store.ClaimRequest{Kinds: kinds, Limit: workers, Lease: r.cfg.Lease})
		if err != nil {
			return n, fmt.Errorf("jobs: claim: %w", err)
		}
		if len(claimed) == 0 {
			return n, nil
		}
		var wg sync.WaitGroup
		for _, j := range claimed {
			wg.Go(func() { r.process(ctx, ctx, j) })
		}
		wg.Wait()
		n += len(claimed)
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
}

// process runs one claimed job and records the outcome. hctx is the base of
// the handler's context; runCtx says whether the runner is stopping.
func (r *Runner) process(hctx, runCtx context.Context, j store.Job) {
	log := r.log.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempts)
	maxAttempts := j.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = r.cfg.MaxAttempts
	}
	// Store calls outlive a cancelled Run: the outcome must be recorded.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(hctx), 30*time.Second)
	defer cancel()

	if j.Attempts > maxAttempts {
		// Its earlier runs never reported back (the worker died or the
		// lease kept expiring): do not run it again.
		msg := fmt.Sprintf("gave up after %d attempts: the last runs never finished (lease expired); last error: %s", maxAttempts, j.LastError)
		log.Error("jobs: burying job whose runs never finished", "max_attempts", maxAttempts)
		r.record(log, r.st.BuryJob(sctx, j.ID, j.LeaseID, msg))
		return
	}
	_, handlers := r.registered()
	h := handlers[j.Kind]
	err := r.call(hctx, h, j)
	switch {
	case err == nil:
		r.record(log, r.st.CompleteJob(sctx, j.ID, j.LeaseID))
	case IsPermanent(err):
		log.Error("jobs: job failed permanently, burying it", "err", err)
		r.record(log, r.st.BuryJob(sctx, j.ID, j.LeaseID, err.Error()))
	case runCtx.Err() != nil && errors.Is(err, context.Canceled):
		log.Warn("jobs: job interrupted by shutdown, it will run again", "err", err)
		r.record(log, r.st.RetryJob(sctx, j.ID, j.LeaseID, r.cfg.Now(), "interrupted by shutdown: "+err.Error()))
	case j.Attempts >= maxAttempts:
		log.Error("jobs: job failed for the last time, burying it", "err", err, "max_attempts", maxAttempts)
		r.record(log, r.st.BuryJob(sctx, j.ID, j.LeaseID, err.Error()))
	default:
		wait := r.backoff(j.Attempts)
		log.Warn("jobs: job failed, will retry", "err", err, "retry_in", wait)
		r.record(log, r.st.RetryJob(sctx, j.ID, j.LeaseID, r.cfg.Now().Add(wait), err.Error()))
	}
}

// call runs h with a context that ends shortly before the lease does, and
// turns a panic into an error.
func (r *Runner) call(hctx context.Context, h Handler, j store.Job) (err error) {
	if h == nil {
		return Permanent(fmt.Errorf("jobs: no handler for kind %q", j.Kind))
	}
	margin := min(r.cfg.Lease/10, 10*time.Second)
	ctx, cancel := context.WithTimeout(hctx, r.cfg.Lease-margin)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("jobs: handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, j)
}

// record logs a failure to record an outcome: a lost lease means another
// worker owns the job now.
func (r *Runner) record(log *slog.Logger, err error) {
	switch {
	case err == nil:
	case errors.Is(err, store.ErrLeaseLost):
		log.Warn("jobs: lease lost before the result was recorded; another worker has the job", "err", err)
	default:
		log.Error("jobs: cannot record the job's outcome; it will run again when its lease expires", "err", err)
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
