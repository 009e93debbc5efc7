package sqldb

import (
	"container/list"
	"context"
	"database/sql"
	"hash/maphash"
	"sync"
)

// maxCachedStmts bounds the statements a stmtCache keeps. The store has
// about 150 statements of fixed text; the rest (IN lists, multi-row
// VALUES) vary with their number of rows and only pass through.
const maxCachedStmts = 256

// stmtCache keeps statements prepared on the database handle, by query
// text, so that each is compiled once per connection rather than at every
// call: database/sql prepares a handle's statement on a connection the
// first time it runs there, keeps it, and reuses it there after, in and
// out of transactions (Tx.StmtContext). SQLite's driver has no cache of
// its own: without this, every call parsed and planned its SQL again (an
// eighth of the CPU of a whole OpenID Connect login).
//
// A text is kept only the second time it is met: those that vary with
// their rows (IN lists, multi-row VALUES; the claims of the job runner
// name as many ids as they took) mostly run once and would otherwise push
// the store's fixed statements out. At most max statements are kept; the
// least recently used one is closed once no call still holds it
// (database/sql then closes its copies on the connections as they come
// free). Statements are only ever prepared on the
// handle by a caller that holds no connection: inside a transaction, a
// miss is prepared in the transaction and the handle's copy is made in
// the background, since waiting for a second connection while holding one
// could wait forever on a small pool.
type stmtCache struct {
	db  *sql.DB
	max int

	mu      sync.Mutex
	m       map[string]*list.Element // of *cachedStmt
	lru     list.List                // most recently used first
	warming map[string]bool          // queries being prepared in the background
	seen    map[uint64]bool          // hashes of the texts met once, not kept yet
	seed    maphash.Seed
	closed  bool
	bg      sync.WaitGroup
}

// cachedStmt is a statement of the cache.
type cachedStmt struct {
	query string
	stmt  *sql.Stmt
	users int  // calls holding it now
	gone  bool // evicted: closed when users falls to 0
}

func newStmtCache(db *sql.DB, max int) *stmtCache {
	return &stmtCache{db: db, max: max, m: map[string]*list.Element{}, warming: map[string]bool{},
		seen: map[uint64]bool{}, seed: maphash.MakeSeed()}
}

// admit reports whether query, which is not cached, was met before (and
// should be kept now); it remembers that it was met. The memory of texts
// met once holds hashes only, and is forgotten past 4 × max of them.
func (c *stmtCache) admit(query string) bool {
	h := maphash.String(c.seed, query)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[h] {
		delete(c.seen, h)
		return true
	}
	if len(c.seen) >= 4*c.max {
		clear(c.seen)
	}
	c.seen[h] = true
	return false
}

// lookup returns query's statement if it is cached, with the release to
// call once database/sql holds what it needs of it (the call using it has
// returned). It never prepares.
func (c *stmtCache) lookup(query string) (*sql.Stmt, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[query]
	if !ok {
		return nil, nil
	}
	return c.holdLocked(el)
}

func (c *stmtCache) holdLocked(el *list.Element) (*sql.Stmt, func()) {
	cs := el.Value.(*cachedStmt)
	c.lru.MoveToFront(el)
	cs.users++
	return cs.stmt, func() { c.release(cs) }
}

// get is lookup that, when query is missing but was met before (admit),
// prepares it on the handle and keeps it; the caller must hold no
// connection of the handle. It returns nil for a text met the first time,
// or when the preparation fails: running the query directly then does the
// work, or reports the error.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, func()) {
	if s, release := c.lookup(query); s != nil {
		return s, release
	}
	if !c.admit(query) {
		return nil, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil
	}
	return c.add(query, s)
}

// warm prepares query on the handle in the background, for the next calls.
func (c *stmtCache) warm(query string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.warming[query] || c.m[query] != nil {
		return
	}
	c.warming[query] = true
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		s, err := c.db.Prepare(query)
		c.mu.Lock()
		delete(c.warming, query)
		c.mu.Unlock()
		if err == nil {
			if _, release := c.add(query, s); release != nil {
				release()
			}
		}
	}()
}

// add keeps s as query's statement (or the one another call kept first)
// and holds it for the caller; it closes what falls out of the cache.
func (c *stmtCache) add(query string, s *sql.Stmt) (*sql.Stmt, func()) {
	var drop []*sql.Stmt
	defer func() {
		for _, d := range drop {
			_ = d.Close()
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		drop = append(drop, s)
		return nil, nil
	}
	if el, ok := c.m[query]; ok { // prepared meanwhile by another call
		drop = append(drop, s)
		return c.holdLocked(el)
	}
	el := c.lru.PushFront(&cachedStmt{query: query, stmt: s})
	c.m[query] = el
	for c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.m, old.query)
		old.gone = true
		if old.users == 0 {
			drop = append(drop, old.stmt)
		}
	}
	return c.holdLocked(el)
}

func (c *stmtCache) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.users--
	done := cs.gone && cs.users == 0
	c.mu.Unlock()
	if done {
		_ = cs.stmt.Close()
	}
}

// close waits for the background preparations and closes every statement
// (before the handle is closed).
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.bg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.lru.Front(); el != nil; el = el.Next() {
		cs := el.Value.(*cachedStmt)
		cs.gone = true
		if cs.users == 0 {
			_ = cs.stmt.Close()
		}
	}
	c.m = map[string]*list.Element{}
	c.lru.Init()
}

// len is how many statements are cached (for tests).
func (c *stmtCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
