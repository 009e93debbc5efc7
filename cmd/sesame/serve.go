package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"sesame/idp"
	"sesame/internal/config"
	"sesame/internal/jobs"
	"sesame/internal/metrics"
	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/notify"
	"sesame/web"
)

func newServeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the web server and the job workers",
		Long: `Serve migrates the store, then runs the HTTP server on the configured listen address and the
job workers that bring the directory, the applications and outgoing mail to the store's state.
/healthz answers 200 while the process is up; /readyz answers 200 when the store answers.
On SIGINT or SIGTERM it stops accepting connections, finishes the requests in progress and the
jobs being run, and exits with status 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a.serving, a.creates = true, true
			cfg, err := a.config()
			if err != nil {
				return err
			}
			for _, w := range cfg.Warnings() {
				a.logger.Warn("configuration: "+w.Message, "key", w.Key)
			}
			if err := ensureDataDir(cfg); err != nil {
				return err
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			m, err := NewMain(cfg, a.logger, st)
			if err != nil {
				return err
			}
			if err := m.Run(ctx); err != nil {
				_ = m.Close()
				return err
			}
			select {
			case <-ctx.Done():
				a.logger.Info("stopping: signal received")
			case err = <-m.Err():
				a.logger.Error("stopping: the server failed", "err", err)
			}
			if cerr := m.Close(); cerr != nil && err == nil {
				err = cerr
			}
			if err == nil {
				a.logger.Info("stopped cleanly")
			}
			return err
		},
	}
}

// ShutdownTimeout bounds how long Close waits for requests in progress.
const ShutdownTimeout = 20 * time.Second

// Main is the running server: every HTTP handler is mounted and every job
// handler registered in one place (mount, registerJobs). Run starts it and
// returns once it listens; Close stops it gracefully. The store is the
// caller's: Main does not close it.
type Main struct {
	Config *config.Config
	Logger *slog.Logger
	Store  store.Store
	Mux    *http.ServeMux
	Runner *jobs.Runner
	// MasterKey is the content of secrets.key_file (created at first
	// start). Each user derives its own purpose key from it with a labelled
	// HMAC (onboarding.TokenKey, idp's signing-key cipher).
	MasterKey []byte

	hasher *password.Hasher
	idp    *idp.Provider
	// scheduler queues the reminders and weekly digests (wireHandlers).
	scheduler *notify.Scheduler
	clientIP  func(*http.Request) string // set by wireHandlers from http.trusted_proxies
	server    *http.Server
	listener  net.Listener
	errc      chan error
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closed    sync.Once
	closeErr  error

	// metrics is nil unless metrics.listen is set; metricsServer serves
	// it on its own listener, never the public one.
	metrics         *metrics.Metrics
	metricsServer   *http.Server
	metricsListener net.Listener
}

// NewMain builds the server for cfg over an opened, migrated store: the mux
// with every handler mounted, and the job runner with every handler
// registered.
func NewMain(cfg *config.Config, logger *slog.Logger, st store.Store) (*Main, error) {
	m := &Main{
		Config: cfg,
		Logger: logger,
		Store:  st,
		Mux:    http.NewServeMux(),
		errc:   make(chan error, 2),
	}
	key, err := config.LoadOrCreateKey(cfg.Secrets.KeyFile)
	if err != nil {
		return nil, err
	}
	m.MasterKey = key
	if cfg.Metrics.Listen != "" {
		m.metrics = metrics.New()
		m.metrics.WatchJobs(st)
	}
	m.Runner = jobs.NewRunner(st, jobsConfig(cfg), logger.With("component", "jobs"))
	if err := m.registerJobs(); err != nil {
		return nil, err
	}
	if err := m.wireHandlers(); err != nil {
		return nil, err
	}
	if err := m.mount(); err != nil {
		return nil, err
	}
	return m, nil
}

// mount registers the remaining HTTP handlers on m.Mux (the account pages
// and the provider are mounted by wireHandlers).
func (m *Main) mount() error {
	(&web.Health{Store: m.Store, Logger: m.Logger}).Mount(m.Mux)
	return nil
}

// registerJobs registers every job handler on m.Runner. Handlers of
// notify and provision are added here.
func (m *Main) registerJobs() error {
	for _, register := range []func() error{
		m.registerLDAP,      // ldap.go: ldapsync's handlers, when a directory is configured
		m.registerProvision, // service_provision.go: accounts in the applications
	} {
		if err := register(); err != nil {
			return err
		}
	}
	return nil
}

// Run listens on the configured address and starts serving and running
// jobs in the background; it returns once the listener is open. Fatal
// errors of the server afterwards are delivered on Err.
func (m *Main) Run(ctx context.Context) error {
	l, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Listen, err)
	}
	m.listener = l
	if m.metrics != nil {
		ml, err := net.Listen("tcp", m.Config.Metrics.Listen)
		if err != nil {
			_ = l.Close()
			return fmt.Errorf("listen on %s (metrics.listen): %w", m.Config.Metrics.Listen, err)
		}
		m.metricsListener = ml
		m.metricsServer = &http.Server{Handler: m.metrics.Handler(), ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			if err := m.metricsServer.Serve(ml); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.errc <- fmt.Errorf("metrics server: %w", err)
			}
		}()
		m.Logger.Info("metrics are served", "listen", ml.Addr().String(), "path", "/metrics")
	}
	m.server = &http.Server{
		Handler:           web.LogRequestsFrom(m.Logger, m.clientIP, m.metrics.Middleware(m.Mux)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	// The job runner gets its own context: it is stopped by Close, after the
	// HTTP server, not by the signal that cancels ctx.
	jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.wg.Add(3)
	go func() {
		defer m.wg.Done()
		m.idp.Run(jctx) // key reloads and purges of expired provider state
	}()
	if m.Config.SharedLimitsEnabled() {
		// Full buckets of the shared rate limits are forgotten (every
		// replica may sweep; the statement is idempotent).
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			web.SweepLimits(jctx, m.Store, time.Minute, m.Logger.With("component", "ratelimit"))
		}()
	}
	// Expired import previews (their sealed files) are forgotten even when
	// nobody uploads (every replica may sweep).
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		web.SweepPendingImports(jctx, m.Store, time.Minute, m.Logger.With("component", "web"))
	}()
	if m.scheduler != nil {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			_ = m.scheduler.Run(jctx) // returns when Close cancels jctx
		}()
	}
	go func() {
		defer m.wg.Done()
		if err := m.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.errc <- fmt.Errorf("http server: %w", err)
		}
	}()
	go func() {
		defer m.wg.Done()
		if err := m.Runner.Run(jctx); err != nil && !errors.Is(err, context.Canceled) {
			m.errc <- fmt.Errorf("job runner: %w", err)
		}
	}()
	m.Logger.Info("sesame is serving", "listen", l.Addr().String(), "public_url", m.Config.PublicURL,
		"store", m.Store.Backend(), "version", version)
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (m *Main) Addr() net.Addr {
	if m.listener == nil {
		return nil
	}
	return m.listener.Addr()
}

// MetricsAddr is the address metrics are served on, nil when they are off.
func (m *Main) MetricsAddr() net.Addr {
	if m.metricsListener == nil {
		return nil
	}
	return m.metricsListener.Addr()
}

// Err delivers a fatal error of the HTTP server or the job runner.
func (m *Main) Err() <-chan error { return m.errc }

// Close stops accepting connections, waits (at most ShutdownTimeout) for
// the requests in progress, then stops the job runner and waits for the
// jobs being run. It is safe to call more than once.
func (m *Main) Close() error {
	m.closed.Do(func() {
		if m.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
			defer cancel()
			if err := m.server.Shutdown(ctx); err != nil {
				m.closeErr = fmt.Errorf("http shutdown: %w", err)
				_ = m.server.Close()
			}
		}
		if m.metricsServer != nil {
			_ = m.metricsServer.Close() // a scrape in progress has nothing to finish
		}
		if m.cancel != nil {
			m.cancel()
		}
		m.wg.Wait()
	})
	return m.closeErr
}

// jobsConfig maps the configuration onto the job runner's.
func jobsConfig(cfg *config.Config) jobs.Config {
	sinks, _ := cfg.JobSinkWorkers() // validated by config.Load
	return jobs.Config{
		Workers:      cfg.Jobs.Workers,
		SinkWorkers:  sinks,
		MaxAttempts:  cfg.Jobs.MaxAttempts,
		Lease:        cfg.Jobs.Lease,
		PollInterval: cfg.Jobs.PollInterval,
		BackoffBase:  cfg.Jobs.BackoffBase,
		BackoffMax:   cfg.Jobs.BackoffMax,
	}
}
