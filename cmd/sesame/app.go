package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"sesame/internal/config"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
)

// app is what every command shares: the config file name, the loaded configuration, the logger,
// the output streams, and the store (opened and migrated on first use, closed when the command ends).
type app struct {
	cfgFile     string
	out, errOut io.Writer
	cfg         *config.Config
	logger      *slog.Logger
	st          store.Store
}

// config loads and validates the configuration on first use (from --config,
// else SESAME_CONFIG, else defaults and the environment alone) and builds
// the logger from it.
func (a *app) config() (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	file := a.cfgFile
	if file == "" {
		file = os.Getenv(config.EnvConfigFile)
	}
	cfg, err := config.Load(file)
	if err != nil {
		return nil, err
	}
	a.cfg = cfg
	a.logger = newLogger(a.errOut, cfg.Log)
	return cfg, nil
}

// store opens the configured store on first use, creating the data
// directory for SQLite, and brings its schema up to date.
func (a *app) store(ctx context.Context) (store.Store, error) {
	if a.st != nil {
		return a.st, nil
	}
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	var st interface {
		store.Store
		Migrate(ctx context.Context) error
	}
	switch cfg.Store.Driver {
	case "postgres":
		db, err := postgres.Open(ctx, cfg.Store.Postgres.DSN, time.Now)
		if err != nil {
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		st = db
	default:
		if err := ensureDataDir(cfg); err != nil {
			return nil, err
		}
		db, err := sqlite.Open(ctx, cfg.Store.SQLite.Path, time.Now)
		if err != nil {
			return nil, fmt.Errorf("open sqlite store: %w", err)
		}
		st = db
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("migrate %s store: %w", st.Backend(), err)
	}
	st.SetDisabledJobSinks(disabledJobSinks(cfg)...) // jobs.go: no work queued for what is off
	a.st = st
	return st, nil
}

// close closes the store when it was opened.
func (a *app) close() error {
	if a.st == nil {
		return nil
	}
	err := a.st.Close()
	a.st = nil
	if err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// ensureDataDir creates data_dir (0700) when it does not exist.
func ensureDataDir(cfg *config.Config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data_dir: %w", err)
	}
	return nil
}

// newLogger builds the slog logger the configuration asks for.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// commands lists the constructors of commands added by other files (in their init functions).
var commands []func(a *app) *cobra.Command

// exitError carries an exit status: 1 for "the work found problems" (e.g. import rows with errors),
// 2 for usage errors. main prints the message (if any) and exits with the code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitWith returns an error that makes the program exit with code, after
// printing err when it is not nil.
func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// exitCode returns the exit status for an error returned by the root command.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}
