package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"sesame/internal/store"
)

// maxTxAttempts bounds how many times InTx runs fn when the engine keeps
// reporting serialization failures.
const maxTxAttempts = 50

// DB is a store over an open database/sql handle. Its store methods (those
// of the embedded Tx) each run in a transaction of their own.
type DB struct {
	Tx
	sql     *sql.DB
	dialect *Dialect
	clock   func() time.Time
	// writer, for a SingleWriter engine, is held by the transaction or
	// statement that writes; nil otherwise.
	writer chan struct{}
	// offSinks holds the disabled job sinks (SetDisabledJobSinks).
	offSinks atomic.Pointer[map[string]bool]
	// stmts keeps prepared statements across calls when the dialect asks
	// for it (Dialect.CacheStatements); nil otherwise.
	stmts *stmtCache
}

var _ store.Store = (*DB)(nil)

// New wraps an open database. now is the clock used for timestamps, job
// scheduling and leases; nil means time.Now.
func New(db *sql.DB, d *Dialect, now func() time.Time) *DB {
	if now == nil {
		now = time.Now
	}
	s := &DB{sql: db, dialect: d, clock: now}
	if d.SingleWriter {
		s.writer = make(chan struct{}, 1)
	}
	if d.CacheStatements {
		s.stmts = newStmtCache(db, maxCachedStmts)
	}
	s.Tx = Tx{db: s}
	return s
}

// lockWriter waits for the writer's turn on a SingleWriter engine and
// returns its release. Transactions of this process thus queue in Go
// rather than on the database lock; other processes (the CLI beside the
// server) still meet the engine's busy timeout.
func (db *DB) lockWriter(ctx context.Context) (func(), error) {
	if db.writer == nil {
		return func() {}, nil
	}
	select {
	case db.writer <- struct{}{}:
		return func() { <-db.writer }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("sqldb: waiting to write: %w", ctx.Err())
	}
}

// SQL returns the underlying handle (for tests and tools).
func (db *DB) SQL() *sql.DB { return db.sql }

// Backend names the backend.
func (db *DB) Backend() string { return db.dialect.Name }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("sqldb: ping %s: %w", db.dialect.Name, err)
	}
	return nil
}

// Close closes the database handle.
func (db *DB) Close() error {
	if db.stmts != nil {
		db.stmts.close()
	}
	return db.sql.Close()
}

// now returns the clock's time in UTC, at the precision kept by the store.
func (db *DB) now() time.Time { return norm(db.clock()) }

// InTx runs fn in one transaction, committed when fn returns nil. A
// serialization failure or deadlock re-runs fn (a bounded number of times,
// after a short jittered pause). fn must not call InTx itself.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return db.inTx(ctx, func(stx *sql.Tx) error {
		return fn(ctx, &Tx{db: db, tx: stx, stmts: db.txStmts()})
	})
}

func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.tryTx(ctx, fn)
		if err == nil || attempt >= maxTxAttempts || !db.dialect.IsRetryable(err) {
			return err
		}
		// 2, 4, 8 ... ms capped at 200 ms, half of it jittered.
		backoff := time.Duration(min(1<<attempt, 200)) * time.Millisecond
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sqldb: transaction gave up after %d attempts: %w", attempt, errors.Join(ctx.Err(), err))
		case <-t.C:
		}
	}
}

func (db *DB) tryTx(ctx context.Context, fn func(*sql.Tx) error) error {
	unlock, err := db.lockWriter(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	stx, err := db.sql.BeginTx(ctx, db.dialect.TxOptions)
	if err != nil {
		return fmt.Errorf("sqldb: begin: %w", err)
	}
	if err := fn(stx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("sqldb: commit: %w", err)
	}
	return nil
}

// txStmts returns the map of a new transaction's statements, or nil when
// statements are not cached.
func (db *DB) txStmts() map[string]*sql.Stmt {
	if db.stmts == nil {
		return nil
	}
	return map[string]*sql.Stmt{}
}

// Tx is the store seen from inside a transaction (tx set) or from outside
// (tx nil: every method opens its own).
type Tx struct {
	db *DB
	tx *sql.Tx
	// stmts holds the statements bound to tx, by query text (see
	// Dialect.CacheStatements); database/sql closes them with tx.
	stmts map[string]*sql.Stmt
}

var _ store.Tx = (*Tx)(nil)

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ex runs statements of one method call.
type ex struct {
	q      querier
	d      *Dialect
	db     *DB
	userTx bool // inside the caller's InTx
	stmts  map[string]*sql.Stmt
}

// run calls fn in the caller's transaction, or in a new one (re-run on
// serialization failures).
func (t *Tx) run(ctx context.Context, fn func(e *ex) error) error {
	if t.tx != nil {
		return fn(&ex{q: t.tx, d: t.db.dialect, db: t.db, userTx: true, stmts: t.stmts})
	}
	return t.db.inTx(ctx, func(stx *sql.Tx) error {
		return fn(&ex{q: stx, d: t.db.dialect, db: t.db, stmts: t.db.txStmts()})
	})
}

// single calls fn with the caller's transaction, or with the bare handle
// for one atomic statement at the engine's default isolation (the job
// claim and its fenced updates, token consumption).
func (t *Tx) single(ctx context.Context, fn func(e *ex) error) error {
	if t.tx != nil {
		return fn(&ex{q: t.tx, d: t.db.dialect, db: t.db, userTx: true, stmts: t.stmts})
	}
	return fn(&ex{q: t.db.sql, d: t.db.dialect, db: t.db})
}

// singleWrite is single for a statement that writes: outside InTx it waits
// for the writer's turn (see DB.lockWriter).
func (t *Tx) singleWrite(ctx context.Context, fn func(e *ex) error) error {
	if t.tx == nil {
		unlock, err := t.db.lockWriter(ctx)
		if err != nil {
			return err
		}
		defer unlock()
	}
	return t.single(ctx, fn)
}

// one reads the single row query selects by arg, with scan, in the
// caller's transaction or as one statement; a missing row is wrapped as
// store.ErrNotFound with the message format and fargs.
func one[T any](ctx context.Context, t *Tx, scan func(scanner) (T, error), query string, arg any, format string, fargs ...any) (T, error) {
	var v T
	err := t.single(ctx, func(e *ex) error {
		var err error
		v, err = scan(e.row(ctx, query, arg))
		return e.wrap(err, format, fargs...)
	})
	return v, err
}

func (e *ex) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s, release := e.prepared(ctx, query); s != nil {
		defer release()
		return s.ExecContext(ctx, args...)
	}
	return e.q.ExecContext(ctx, e.d.rebind(query), args...)
}

func (e *ex) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s, release := e.prepared(ctx, query); s != nil {
		defer release() // open rows keep what they need of s
		return s.QueryContext(ctx, args...)
	}
	return e.q.QueryContext(ctx, e.d.rebind(query), args...)
}

func (e *ex) row(ctx context.Context, query string, args ...any) *sql.Row {
	if s, release := e.prepared(ctx, query); s != nil {
		defer release()
		return s.QueryRowContext(ctx, args...)
	}
	return e.q.QueryRowContext(ctx, e.d.rebind(query), args...)
}

// prepared returns query as a prepared statement when the dialect caches
// them (Dialect.CacheStatements), with the release to call once the call
// running it has returned; else nil (run it directly). In a transaction
// it is the cached statement bound to the transaction (compiled on its
// connection at most once in the process), or, on a miss, one prepared in
// the transaction (reused there), while the cache gets its copy in the
// background if the text was met before. A failed preparation also
// returns nil: the direct run reports the error.
func (e *ex) prepared(ctx context.Context, query string) (*sql.Stmt, func()) {
	c := e.db.stmts
	if c == nil {
		return nil, nil
	}
	q := e.d.rebind(query)
	stx, inTx := e.q.(*sql.Tx)
	if !inTx {
		return c.get(ctx, q)
	}
	if e.stmts == nil {
		return nil, nil
	}
	if s, ok := e.stmts[q]; ok {
		return s, noRelease
	}
	var s *sql.Stmt
	if cached, release := c.lookup(q); cached != nil {
		s = stx.StmtContext(ctx, cached)
		release() // the transaction's statement keeps the cached one open
	} else {
		var err error
		if s, err = stx.PrepareContext(ctx, q); err != nil {
			return nil, nil
		}
		if c.admit(q) {
			c.warm(q)
		}
	}
	e.stmts[q] = s
	return s, noRelease
}

func noRelease() {}

// guard runs fn, a statement that may break a constraint, so that the
// caller's transaction survives the failure (a savepoint on PostgreSQL).
func (e *ex) guard(ctx context.Context, fn func() error) error {
	if !e.userTx || !e.d.Savepoints {
		return fn()
	}
	if _, err := e.q.ExecContext(ctx, "SAVEPOINT sesame_guard"); err != nil {
		return fmt.Errorf("sqldb: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rerr := e.q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT sesame_guard"); rerr != nil {
			return errors.Join(err, fmt.Errorf("sqldb: rollback to savepoint: %w", rerr))
		}
		return err
	}
	if _, err := e.q.ExecContext(ctx, "RELEASE SAVEPOINT sesame_guard"); err != nil {
		return fmt.Errorf("sqldb: release savepoint: %w", err)
	}
	return nil
}

// tv is the value stored for a time: NULL for the zero time.
func (e *ex) tv(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = norm(t)
	if e.d.NativeTime {
		return t
	}
	return t.Format(textTime)
}

// wrap turns a driver error into the store's errors, saying what failed.
func (e *ex) wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict),
		errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrLeaseLost),
		errors.Is(err, store.ErrTokenUsed), errors.Is(err, store.ErrTokenExpired):
		return fmt.Errorf("sqldb: %s: %w", what, err)
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqldb: %s: %w", what, store.ErrNotFound)
	case e.d.IsUnique(err):
		return fmt.Errorf("sqldb: %s: %w (%w)", what, store.ErrConflict, err)
	case e.d.IsForeignKey(err):
		return fmt.Errorf("sqldb: %s: a row it refers to does not exist: %w (%w)", what, store.ErrNotFound, err)
	}
	return fmt.Errorf("sqldb: %s: %w", what, err)
}

// invalid returns an ErrInvalid with a reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("sqldb: %s: %w", fmt.Sprintf(format, args...), store.ErrInvalid)
}

// newID returns a random UUID v4.
func newID() string { return uuidString() }
