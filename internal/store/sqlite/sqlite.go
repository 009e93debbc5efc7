package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"sesame/internal/store"
	"sesame/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// DB is the SQLite store.
type DB struct {
	*sqldb.DB
	path string
}

var _ store.Store = (*DB)(nil)

// dialect is SQLite's share of the SQL.
var dialect = &sqldb.Dialect{
	Name:            "sqlite",
	SingleWriter:    true,
	CacheStatements: true,
	IsUnique: func(err error) bool {
		return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsForeignKey: func(err error) bool { return hasCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
	IsRetryable: func(err error) bool {
		var e *msqlite.Error
		return errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_BUSY || e.Code()&0xff == sqlite3.SQLITE_LOCKED)
	},
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL)`,
}

func hasCode(err error, codes ...int) bool {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code() == c {
			return true
		}
	}
	return false
}

// closeToOthers takes every permission of others (neither owner nor group)
// away from an existing database and its -wal and -shm files: a file made
// before sesame created its databases 0600, or copied with a umask of 022,
// was readable by every account of the machine. The group's bits are kept
// (a backup group may be given read access on purpose). A file sesame does
// not own is left as it is: only its owner may change its mode.
func closeToOthers(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o007 != 0 {
			_ = os.Chmod(p, fi.Mode().Perm()&^0o007)
		}
	}
}

// Open opens (creating it and its directory when missing) the database file
// at path. now is the store's clock; nil means time.Now. Open does not
// migrate: call Migrate.
func Open(ctx context.Context, path string, now func() time.Time) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite: open: empty path: %w", store.ErrInvalid)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	// A new database is created readable by its owner only, whatever the
	// umask: it holds password hashes and personal data. SQLite gives its
	// -wal and -shm files the database file's mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	} else {
		closeToOthers(path)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A bounded pool, kept open: without it a burst of requests (500
	// logins at once) opened a connection each, every one with its own page
	// cache (up to 2 MiB) and the cost of opening the file and applying the
	// pragmas, then closed all but two. Writers queue on one Go mutex
	// (sqldb.DB), so more connections than cores would only add memory.
	conns := max(4, 2*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := ping(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return &DB{DB: sqldb.New(db, dialect, now), path: path}, nil
}

// ping opens the first connection, which applies the pragmas. Switching a
// new file to WAL takes an exclusive lock for which SQLite does not call the
// busy handler, so several processes opening one fresh file at once (the
// server and a CLI command) may get SQLITE_BUSY: try again for up to ten
// seconds, like the busy timeout.
func ping(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.PingContext(ctx)
		if err == nil || !dialect.IsRetryable(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Migrate applies the embedded migrations not yet applied.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := sqldb.Migrations(migrationsFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := db.ApplyMigrations(ctx, ms); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}
