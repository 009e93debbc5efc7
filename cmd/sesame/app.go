package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"

	"sesame/internal/config"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqldb"
	"sesame/internal/store/sqlite"
)

// app is what every command shares: the config file name, the loaded configuration, the logger,
// the output streams, and the store (opened and migrated on first use, closed when the command ends).
type app struct {
	cfgFile     string
	verbose     bool
	out, errOut io.Writer
	cfg         *config.Config
	logger      *slog.Logger
	st          store.Store

	// creates is set by the commands that may start from nothing (serve,
	// migrate): they create data_dir and the database when missing, and the
	// master key (migrate: only with a new store). Every other command
	// refuses to run without them, rather than silently starting a new,
	// empty database in the wrong folder.
	creates bool
	// serving is set by serve, whose logs follow log.level; other commands
	// log warnings and errors only (their output is the report), unless
	// --verbose.
	serving bool
	// newStore is set by store when it found no store and created one.
	newStore bool
}

// config loads and validates the configuration on first use (from --config,
// else SESAME_CONFIG, else defaults and the environment alone) and builds
// the logger from it.
func (a *app) config() (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	cfg, err := config.Load(a.configFile())
	if err != nil {
		return nil, err
	}
	a.cfg = cfg
	a.logger = newLogger(a.errOut, cfg.Log, a.serving || a.verbose)
	return cfg, nil
}

// configFile is the configuration file named by --config or SESAME_CONFIG,
// "" when there is none.
func (a *app) configFile() string {
	if a.cfgFile != "" {
		return a.cfgFile
	}
	return os.Getenv(config.EnvConfigFile)
}

// store opens the configured store on first use and brings its schema up
// to date. Only serve and migrate (a.creates) may create the data
// directory and the database; other commands fail when there is none.
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
		if err := a.checkSchema(ctx, db); errors.Is(err, errNoSchema) && a.creates {
			a.newStore = true
		} else if err != nil {
			_ = db.Close()
			return nil, err
		}
		st = db
	default:
		_, err := os.Stat(cfg.Store.SQLite.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && a.creates:
			if err := ensureDataDir(cfg); err != nil {
				return nil, err
			}
			a.newStore = true
		case errors.Is(err, fs.ErrNotExist):
			return nil, exitWith(1, a.missing("database", cfg.Store.SQLite.Path,
				`"sesame migrate" starts a new, empty one there`))
		case err != nil:
			return nil, fmt.Errorf("open sqlite store: %w", err)
		}
		db, err := sqlite.Open(ctx, cfg.Store.SQLite.Path, time.Now)
		if err != nil {
			return nil, fmt.Errorf("open sqlite store: %w", err)
		}
		st = db
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		if tooNew := (*sqldb.SchemaTooNewError)(nil); errors.As(err, &tooNew) {
			// Nothing was changed: say so, and exit 1 like a missing store.
			return nil, exitWith(1, fmt.Errorf("sesame %s cannot use the %s store at %s: %w. Nothing was changed",
				version, st.Backend(), a.storeWhere(cfg), tooNew))
		}
		return nil, fmt.Errorf("migrate %s store: %w", st.Backend(), err)
	}
	st.SetDisabledJobSinks(disabledJobSinks(cfg)...) // jobs.go: no work queued for what is off
	a.st = st
	return st, nil
}

// storeWhere names the configured store for messages: the SQLite file or
// the PostgreSQL DSN without its password.
func (a *app) storeWhere(cfg *config.Config) string {
	if cfg.Store.Driver == "postgres" {
		return config.RedactDSN(cfg.Store.Postgres.DSN)
	}
	if abs, err := filepath.Abs(cfg.Store.SQLite.Path); err == nil {
		return abs
	}
	return cfg.Store.SQLite.Path
}

// errNoSchema is wrapped by checkSchema's error for a database without
// sesame's tables.
var errNoSchema = errors.New("no sesame tables")

// checkSchema fails when the PostgreSQL database holds no sesame schema
// (no migration was ever applied to it): the DSN names the wrong database.
func (a *app) checkSchema(ctx context.Context, db *postgres.DB) error {
	v, err := db.Version(ctx)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "42P01", err == nil && v == 0: // undefined_table: schema_migrations
		return exitWith(1, fmt.Errorf(`no sesame database in PostgreSQL at %s (it holds %w).
Point at the right database with store.postgres.dsn in the configuration file (--config FILE) or
SESAME_STORE_POSTGRES_DSN; "sesame migrate" creates sesame's tables in an empty database.
Nothing was created`, config.RedactDSN(a.cfg.Store.Postgres.DSN), errNoSchema))
	case err != nil:
		return fmt.Errorf("open postgres store: %w", err)
	}
	return nil
}

// missing explains that what (the database, the master key) is not at
// path, where that path comes from, how to point at the right place, and
// the remedy when it truly is missing.
func (a *app) missing(what, path, remedy string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	from := "the built-in default"
	if f := a.configFile(); f != "" {
		from = "the configuration " + f
	}
	if os.Getenv("SESAME_DATA_DIR") != "" {
		from = "SESAME_DATA_DIR"
	}
	where := fmt.Sprintf("data_dir is %q (from %s)", a.cfg.DataDir, from)
	if !filepath.IsAbs(a.cfg.DataDir) {
		wd, _ := os.Getwd()
		where += fmt.Sprintf(", relative to the folder this command runs in, %s", wd)
	}
	return fmt.Errorf(`no %s at %s: %s.
Run the command from the folder "sesame serve" runs in, or say where sesame's data is:
--config FILE, SESAME_DATA_DIR=DIR, or data_dir in the configuration file.
%s. Nothing was created`, what, abs, where, remedy)
}

// masterKey reads the master key (secrets.key_file). serve creates it
// when it is missing, and migrate when it created the store; other commands
// fail, as a new key would not open the links already sent.
func (a *app) masterKey(cfg *config.Config) ([]byte, error) {
	if a.serving || (a.creates && a.newStore) {
		return config.LoadOrCreateKey(cfg.Secrets.KeyFile)
	}
	key, err := config.LoadKey(cfg.Secrets.KeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, exitWith(1, a.missing("master key", cfg.Secrets.KeyFile,
			`Restore the key from a backup if it is lost: "sesame serve" would make a new one, which no link already sent opens`))
	}
	return key, err
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

// newLogger builds the slog logger the configuration asks for. Unless
// full (serve, or --verbose), it logs warnings and errors only, or errors
// only when log.level says so.
func newLogger(w io.Writer, c config.Log, full bool) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	if !full {
		level = max(level, slog.LevelWarn)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// commands lists the constructors of commands added by other files (in their init functions).
var commands []func(a *app) *cobra.Command

// exitError carries an exit status (see the table in docs/operations.md): 1 when the work failed
// or found problems (e.g. import rows with errors), 2 for usage errors. run prints the message (if
// any) and exits with the code.
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
