package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"sesame/internal/store"
	"sesame/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// migrationLock is the advisory lock key held while migrating ("sesame" in
// ASCII).
const migrationLock = 0x736573616d65

// DB is the PostgreSQL store.
type DB struct {
	*sqldb.DB
}

var _ store.Store = (*DB)(nil)

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// dialect is PostgreSQL's share of the SQL.
var dialect = &sqldb.Dialect{
	Name:         "postgres",
	Numbered:     true,
	NativeTime:   true,
	TxOptions:    &sql.TxOptions{Isolation: sql.LevelSerializable},
	Savepoints:   true,
	ArrayInsert:  true,
	ClaimLock:    "FOR UPDATE SKIP LOCKED",
	IsUnique:     func(err error) bool { return pgCode(err) == "23505" },
	IsForeignKey: func(err error) bool { return pgCode(err) == "23503" },
	IsRetryable: func(err error) bool {
		c := pgCode(err)
		return c == "40001" || c == "40P01"
	},
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL)`,
	LockMigrations: func(ctx context.Context, c *sql.Conn) (func(), error) {
		if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLock)); err != nil {
			return nil, err
		}
		return func() {
			// A fresh context: the lock must go even when ctx was cancelled.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _ = c.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", int64(migrationLock))
		}, nil
	},
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and checks that it answers. now is the store's clock; nil means
// time.Now. Open does not migrate: call Migrate.
func Open(ctx context.Context, dsn string, now func() time.Time) (*DB, error) {
	if dsn == "" {
		return nil, fmt.Errorf("postgres: open: empty DSN: %w", store.ErrInvalid)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return &DB{DB: sqldb.New(db, dialect, now)}, nil
}

// Migrate applies the embedded migrations not yet applied, under an
// advisory lock so that concurrent processes take turns.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := sqldb.Migrations(migrationsFS, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := db.ApplyMigrations(ctx, ms); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}
