package sqldb

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"sesame/internal/store"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string // file name, e.g. "0001_init.sql"
	SQL     string
}

// Migrations reads the NNNN_name.sql files of dir in fsys, in version order.
// A badly named file or a version used twice is an error.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqldb: read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqldb: migration %q is not named NNNN_name.sql", e.Name())
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("sqldb: migrations %q and %q have the same version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqldb: read migration %q: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out, nil
}

// ApplyMigrations applies the migrations not yet recorded in schema_migrations, each
// in its own transaction together with its record. It is idempotent; two
// processes migrating at once are serialised by the dialect's lock
// (PostgreSQL) or by the immediate transaction (SQLite), and the second
// finds the work done.
func (db *DB) ApplyMigrations(ctx context.Context, migrations []Migration) error {
	c, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqldb: migrate: %w", err)
	}
	defer c.Close()
	if db.dialect.LockMigrations != nil {
		unlock, err := db.dialect.LockMigrations(ctx, c)
		if err != nil {
			return fmt.Errorf("sqldb: migrate: lock: %w", err)
		}
		defer unlock()
	}
	if _, err := c.ExecContext(ctx, db.dialect.MigrationsTable); err != nil {
		return fmt.Errorf("sqldb: migrate: create schema_migrations: %w", err)
	}
	known := 0
	if len(migrations) > 0 {
		known = migrations[len(migrations)-1].Version
	}
	var have int
	if err := c.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("sqldb: migrate: schema version: %w", err)
	}
	if have > known {
		return &SchemaTooNewError{Database: have, Binary: known}
	}
	e := &ex{d: db.dialect, db: db}
	for _, m := range migrations {
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqldb: migrate %s: begin: %w", m.Name, err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, db.dialect.rebind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), m.Version).Scan(&n); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("sqldb: migrate %s: %w", m.Name, err)
		}
		if n > 0 {
			_ = tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("sqldb: migrate %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, db.dialect.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			m.Version, m.Name, e.tv(db.now())); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("sqldb: migrate %s: record: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqldb: migrate %s: commit: %w", m.Name, err)
		}
	}
	return nil
}

// SchemaTooNewError is ApplyMigrations' error for a database whose schema
// is newer than the migrations it was given, i.e. than this binary: a newer
// sesame migrated it. It wraps store.ErrSchemaTooNew.
type SchemaTooNewError struct {
	Database int // the highest migration the database records
	Binary   int // the highest migration this binary knows
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("the database's schema is at version %d, newer than this sesame binary knows (version %d): "+
		"a newer sesame migrated it. Upgrade sesame to that version, or restore a backup made before the upgrade", e.Database, e.Binary)
}

func (e *SchemaTooNewError) Unwrap() error { return store.ErrSchemaTooNew }

// Version returns the highest migration applied, 0 when none.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := db.sql.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("sqldb: schema version: %w", err)
	}
	return v, nil
}
