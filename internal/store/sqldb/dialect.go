package sqldb

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// Dialect is what differs between the SQL engines.
type Dialect struct {
	// Name is the backend's name, returned by Backend ("sqlite", "postgres").
	Name string
	// Numbered says placeholders are written $1, $2, ... instead of ?.
	Numbered bool
	// NativeTime says time.Time values are passed to the driver as they are
	// (PostgreSQL timestamptz); otherwise they are stored as fixed-width
	// UTC text, which sorts like the times it holds (SQLite).
	NativeTime bool
	// TxOptions are the options of every store transaction. SQLite gets its
	// BEGIN IMMEDIATE from the DSN (_txlock=immediate).
	TxOptions *sql.TxOptions
	// Savepoints says a failed statement aborts the whole transaction
	// (PostgreSQL), so statements that may break a constraint inside InTx
	// are wrapped in a savepoint: the caller may then go on after an
	// ErrConflict, as on SQLite.
	Savepoints bool
	// ClaimLock is appended to the claim's inner SELECT
	// ("FOR UPDATE SKIP LOCKED" on PostgreSQL).
	ClaimLock string
	// IsUnique reports a unique or primary key violation.
	IsUnique func(error) bool
	// IsForeignKey reports a foreign key violation.
	IsForeignKey func(error) bool
	// IsRetryable reports a serialization failure or deadlock (or a busy
	// database) after which the whole transaction may be run again.
	IsRetryable func(error) bool
	// SingleWriter says the engine runs one write transaction at a time
	// (SQLite): the store then queues its writers on a mutex instead of
	// letting them collide on the database lock, whose busy handler sleeps
	// for milliseconds while a core could work.
	SingleWriter bool
	// CacheStatements says the store keeps its statements prepared across
	// calls and transactions (SQLite, whose driver otherwise compiles every
	// statement at every call; see stmtCache). PostgreSQL's driver keeps its
	// own statement cache.
	CacheStatements bool
	// ArrayInsert says the bulk methods pass their rows as one array per
	// column, expanded by unnest (PostgreSQL): one short statement, parsed
	// and planned once whatever the number of rows. Otherwise they use
	// multi-row VALUES lists bounded by the engine's parameter limit.
	ArrayInsert bool
	// MigrationsTable is the CREATE TABLE IF NOT EXISTS statement of the
	// schema_migrations table.
	MigrationsTable string
	// LockMigrations takes a lock held across migrations by every process
	// (PostgreSQL: an advisory lock), and returns its release. Nil means
	// the per-migration transaction is enough.
	LockMigrations func(ctx context.Context, c *sql.Conn) (func(), error)
}

// rebind rewrites ? placeholders as $n when the dialect numbers them. The
// store's SQL never has a ? inside a string literal.
func (d *Dialect) rebind(query string) string {
	if !d.Numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}
