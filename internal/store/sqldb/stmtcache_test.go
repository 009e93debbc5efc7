package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"
)

// openCacheDB opens a SQLite file with a table t(k, v) and a pool of
// conns connections.
func openCacheDB(t *testing.T, conns int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "c.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(conns)
	if _, err := db.Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestStmtCacheEvictsWhenUnused: past its bound the cache drops the least
// recently used statement, but a call still holding it runs it to the end;
// it is closed only once released.
func TestStmtCacheEvictsWhenUnused(t *testing.T) {
	ctx := context.Background()
	c := newStmtCache(openCacheDB(t, 2), 2)
	q := func(i int) string { return fmt.Sprintf("SELECT %d", i) }
	// get keeps a text the second time it is met.
	get := func(i int) (*sql.Stmt, func()) {
		t.Helper()
		if s, _ := c.get(ctx, q(i)); s != nil {
			t.Fatalf("q%d kept the first time it was met", i)
		}
		s, release := c.get(ctx, q(i))
		if s == nil {
			t.Fatalf("q%d not kept the second time", i)
		}
		return s, release
	}
	s1, release1 := get(1)
	_, r2 := get(2)
	r2()
	_, r3 := get(3) // q1 is the least recently used: evicted
	r3()
	if s, _ := c.lookup(q(1)); s != nil {
		t.Fatal("q1 still cached past the bound")
	}
	if c.len() != 2 {
		t.Fatalf("%d statements cached, want 2", c.len())
	}
	var n int
	if err := s1.QueryRowContext(ctx).Scan(&n); err != nil || n != 1 {
		t.Fatalf("held statement after eviction: %d, %v", n, err)
	}
	release1()
	if err := s1.QueryRowContext(ctx).Scan(&n); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("evicted statement not closed once released: %v", err)
	}
	// q2 was used after q1: still there; a hit moves it to the front.
	if s, r := c.lookup(q(2)); s == nil {
		t.Fatal("q2 evicted before q1")
	} else {
		r()
	}
	c.close()
	if c.len() != 0 {
		t.Fatal("statements left after close")
	}
	c.get(ctx, q(4))
	if s, _ := c.get(ctx, q(4)); s != nil {
		t.Fatal("a closed cache kept a statement")
	}
}

// TestStmtCacheStore runs the store's statement paths with the cache on a
// pool smaller than the callers, under -race: in transactions (a miss
// prepared in the transaction and warmed for the next ones, then a hit
// bound to the transaction), out of them, with more distinct queries than
// the cache holds (evictions while other calls use them), and checks
// every result.
func TestStmtCacheStore(t *testing.T) {
	ctx := context.Background()
	raw := openCacheDB(t, 3)
	db := New(raw, &Dialect{Name: "sqlite", SingleWriter: true, CacheStatements: true,
		IsRetryable: func(error) bool { return false }}, nil)
	db.stmts.max = 8
	insert := func(i int) error {
		return db.inTx(ctx, func(stx *sql.Tx) error {
			e := &ex{q: stx, d: db.dialect, db: db, stmts: db.txStmts()}
			for range 2 { // the second run in the transaction reuses its statement
				if _, err := e.exec(ctx, "INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)", i, fmt.Sprint("v", i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	read := func(e *ex, i int) error {
		// 12 texts for 8 places: evictions while others run.
		var v string
		q := fmt.Sprintf("SELECT v FROM t WHERE k = ? AND %d = %d", i%12, i%12)
		if err := e.row(ctx, q, i).Scan(&v); err != nil {
			return fmt.Errorf("read %d: %w", i, err)
		}
		if v != fmt.Sprint("v", i) {
			return fmt.Errorf("read %d: %q", i, v)
		}
		return nil
	}
	const ins = "INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)"
	if err := insert(0); err != nil {
		t.Fatal(err)
	}
	db.stmts.bg.Wait()
	if s, _ := db.stmts.lookup(ins); s != nil {
		t.Fatal("a text met once was cached")
	}
	if err := insert(0); err != nil {
		t.Fatal(err)
	}
	db.stmts.bg.Wait() // met again: warmed in the background
	if s, r := db.stmts.lookup(ins); s == nil {
		t.Fatal("a statement met twice in transactions was not cached for the next ones")
	} else {
		r()
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < 400; i += 8 {
				if err := insert(i); err != nil {
					t.Error(err) // Error, not Fatal: from a goroutine
					return
				}
				var err error
				if i%2 == 0 {
					err = read(&ex{q: raw, d: db.dialect, db: db}, i)
				} else {
					err = db.inTx(ctx, func(stx *sql.Tx) error {
						return read(&ex{q: stx, d: db.dialect, db: db, stmts: db.txStmts()}, i)
					})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := db.stmts.len(); n > 8 {
		t.Errorf("%d statements cached, bound 8", n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestStmtCacheAdmission: texts met once (the IN lists of as many ids as a
// claim took) are never kept and never push kept ones out, and the memory
// of them stays bounded.
func TestStmtCacheAdmission(t *testing.T) {
	ctx := context.Background()
	c := newStmtCache(openCacheDB(t, 2), 4)
	const fixed = "SELECT v FROM t WHERE k = ?"
	c.get(ctx, fixed)
	if _, release := c.get(ctx, fixed); release == nil {
		t.Fatal("fixed text not kept the second time")
	} else {
		release()
	}
	for n := 1; n <= 100; n++ {
		q := "SELECT v FROM t WHERE k IN (?" + strings.Repeat(", ?", n-1) + ")"
		if s, _ := c.get(ctx, q); s != nil {
			t.Fatalf("a text of %d ids kept the first time", n)
		}
	}
	if c.len() != 1 {
		t.Fatalf("%d statements cached, want the fixed one only", c.len())
	}
	if s, release := c.lookup(fixed); s == nil {
		t.Fatal("the fixed statement was pushed out")
	} else {
		release()
	}
	if n := len(c.seen); n > 4*c.max {
		t.Fatalf("%d texts remembered, bound %d", n, 4*c.max)
	}
}
