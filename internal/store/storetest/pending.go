package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"sesame/internal/store"
)

// pendingTests cover the pending import previews (store.PendingImports).
var pendingTests = []struct {
	name string
	fn   func(*env)
}{
	{"PendingImportsRoundTrip", testPendingRoundTrip},
	{"PendingImportsBounds", testPendingBounds},
	{"PendingImportsConcurrent", testPendingConcurrent},
	{"PendingImportsExpiry", testPendingExpiry},
	{"PendingImportsDeleteOnce", testPendingDeleteOnce},
	{"PendingImportsInvalid", testPendingInvalid},
}

func (e *env) pending(id, session, structureID string, created time.Time) store.PendingImport {
	return store.PendingImport{ID: id, Session: session, StructureID: structureID, FileName: id + ".csv",
		Data: []byte("sealed " + id), Mode: store.ModeSync, Options: []byte(`{"address":"personal"}`),
		Fingerprint: "fp-" + id, CreatedAt: created, ExpiresAt: created.Add(30 * time.Minute)}
}

// testPendingRoundTrip: what is put comes back to its session only, and a
// deleted structure takes its previews with it.
func testPendingRoundTrip(e *env) {
	st := e.structure("pending-a")
	now := e.now()
	p := e.pending("p1", "s1", st.ID, now)
	p.Changed = true
	e.ok(e.st.PutPendingImport(e.ctx, p, 16, 2), "put")
	got, err := e.st.GetPendingImport(e.ctx, "p1", "s1", now)
	e.ok(err, "get")
	if got.ID != p.ID || got.Session != p.Session || got.StructureID != st.ID || got.FileName != p.FileName ||
		!bytes.Equal(got.Data, p.Data) || got.Mode != p.Mode || string(got.Options) != string(p.Options) ||
		got.Fingerprint != p.Fingerprint || !got.Changed || !got.CreatedAt.Equal(now) || !got.ExpiresAt.Equal(p.ExpiresAt) {
		e.t.Fatalf("got %+v, want %+v", got, p)
	}
	_, err = e.st.GetPendingImport(e.ctx, "p1", "s2", now)
	e.is(err, store.ErrNotFound, "get by another session")
	_, err = e.st.GetPendingImport(e.ctx, "nope", "s1", now)
	e.is(err, store.ErrNotFound, "get unknown")
	e.is(e.st.PutPendingImport(e.ctx, p, 16, 2), store.ErrConflict, "put the same id again")
	e.is(e.st.PutPendingImport(e.ctx, e.pending("p2", "s1", "no-such-structure", now), 16, 2), store.ErrNotFound,
		"put for an unknown structure")
	e.ok(e.st.DeleteStructure(e.ctx, st.ID), "delete structure")
	_, err = e.st.GetPendingImport(e.ctx, "p1", "s1", now)
	e.is(err, store.ErrNotFound, "get after the structure's deletion")
}

// testPendingBounds: a session past its bound loses its oldest; past the
// overall bound a put is refused with ErrFull and drops nobody else's.
func testPendingBounds(e *env) {
	st := e.structure("pending-b")
	now := e.now()
	put := func(id, session string, at time.Duration) error {
		return e.st.PutPendingImport(e.ctx, e.pending(id, session, st.ID, now.Add(at)), 4, 2)
	}
	present := func(id, session string) bool {
		_, err := e.st.GetPendingImport(e.ctx, id, session, now.Add(time.Minute))
		if err != nil && !errorsIsNotFound(err) {
			e.t.Fatalf("get %s: %v", id, err)
		}
		return err == nil
	}
	e.ok(put("a1", "a", 0), "a1")
	e.ok(put("a2", "a", time.Second), "a2")
	e.ok(put("a3", "a", 2*time.Second), "a3")
	if present("a1", "a") || !present("a2", "a") || !present("a3", "a") {
		e.t.Fatal("the session's third preview did not replace its oldest only")
	}
	// Previews made at the same instant leave by arrival, whatever their
	// ids (z1 arrives first and sorts last).
	e.ok(put("z1", "z", 0), "z1")
	e.ok(put("y2", "z", 0), "y2")
	e.ok(put("x3", "z", 0), "x3")
	if present("z1", "z") || !present("y2", "z") || !present("x3", "z") {
		e.t.Fatal("at one instant, the third preview did not replace the first")
	}
	for _, id := range []string{"y2", "x3"} {
		if ok, err := e.st.DeletePendingImport(e.ctx, id, "z"); err != nil || !ok {
			e.t.Fatalf("forget %s: %v, %v", id, ok, err)
		}
	}
	e.ok(put("b1", "b", 3*time.Second), "b1")
	e.ok(put("b2", "b", 4*time.Second), "b2")
	e.is(put("c1", "c", 5*time.Second), store.ErrFull, "a fifth preview overall")
	for _, x := range [][2]string{{"a2", "a"}, {"a3", "a"}, {"b1", "b"}, {"b2", "b"}} {
		if !present(x[0], x[1]) {
			e.t.Fatalf("%s was dropped by a refused put", x[0])
		}
	}
	// A session at its bound may still replace its own when all is full.
	e.ok(put("b3", "b", 6*time.Second), "b3 replaces b1")
	if present("b1", "b") || !present("b3", "b") {
		e.t.Fatal("b3 did not replace b1")
	}
}

// testPendingConcurrent: concurrent puts of new sessions keep exactly the
// overall bound, whichever commit first.
func testPendingConcurrent(e *env) {
	st := e.structure("pending-f")
	now := e.now()
	const puts, max = 8, 3
	var okN atomic.Int32
	var wg sync.WaitGroup
	for i := range puts {
		wg.Go(func() {
			id := fmt.Sprintf("x%d", i)
			err := e.st.PutPendingImport(e.ctx, e.pending(id, id, st.ID, now), max, 2)
			if err == nil {
				okN.Add(1)
			} else if !errorsIsFull(err) {
				e.t.Errorf("concurrent put: %v", err)
			}
		})
	}
	wg.Wait()
	if okN.Load() != max {
		e.t.Fatalf("%d of %d concurrent puts were kept, want %d", okN.Load(), puts, max)
	}
}

// testPendingExpiry: an expired preview is not returned, is swept, and
// frees its place for a put.
func testPendingExpiry(e *env) {
	st := e.structure("pending-c")
	now := e.now()
	e.ok(e.st.PutPendingImport(e.ctx, e.pending("old", "s", st.ID, now), 1, 1), "put old")
	if _, err := e.st.GetPendingImport(e.ctx, "old", "s", now.Add(30*time.Minute-time.Microsecond)); err != nil {
		e.t.Fatalf("get just before expiry: %v", err)
	}
	_, err := e.st.GetPendingImport(e.ctx, "old", "s", now.Add(30*time.Minute))
	e.is(err, store.ErrNotFound, "get at expiry")
	// Full (max 1) until old expires; then another session's put sweeps it.
	e.is(e.st.PutPendingImport(e.ctx, e.pending("new", "t", st.ID, now.Add(time.Minute)), 1, 1), store.ErrFull, "put while full")
	e.ok(e.st.PutPendingImport(e.ctx, e.pending("new", "t", st.ID, now.Add(31*time.Minute)), 1, 1), "put after expiry")
	e.ok(e.st.PutPendingImport(e.ctx, e.pending("gone", "u", st.ID, now), 5, 1), "put another")
	n, err := e.st.SweepPendingImports(e.ctx, now.Add(30*time.Minute))
	e.ok(err, "sweep")
	if n != 1 {
		e.t.Fatalf("swept %d, want 1", n)
	}
	if _, err := e.st.GetPendingImport(e.ctx, "new", "t", now.Add(31*time.Minute)); err != nil {
		e.t.Fatalf("the live preview was swept: %v", err)
	}
}

// testPendingDeleteOnce: a delete answers true once, and never for another
// session.
func testPendingDeleteOnce(e *env) {
	st := e.structure("pending-d")
	now := e.now()
	e.ok(e.st.PutPendingImport(e.ctx, e.pending("p", "s", st.ID, now), 4, 2), "put")
	if ok, err := e.st.DeletePendingImport(e.ctx, "p", "other"); err != nil || ok {
		e.t.Fatalf("delete by another session = %v, %v", ok, err)
	}
	var okN atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			ok, err := e.st.DeletePendingImport(e.ctx, "p", "s")
			if err != nil {
				e.t.Errorf("delete: %v", err)
			}
			if ok {
				okN.Add(1)
			}
		})
	}
	wg.Wait()
	if okN.Load() != 1 {
		e.t.Fatalf("%d deletes succeeded, want 1", okN.Load())
	}
}

func testPendingInvalid(e *env) {
	st := e.structure("pending-e")
	now := e.now()
	p := e.pending("p", "s", st.ID, now)
	e.is(e.st.PutPendingImport(e.ctx, p, 0, 1), store.ErrInvalid, "max 0")
	e.is(e.st.PutPendingImport(e.ctx, p, 1, 0), store.ErrInvalid, "per session 0")
	bad := p
	bad.Session = ""
	e.is(e.st.PutPendingImport(e.ctx, bad, 1, 1), store.ErrInvalid, "no session")
	bad = p
	bad.ExpiresAt = bad.CreatedAt
	e.is(e.st.PutPendingImport(e.ctx, bad, 1, 1), store.ErrInvalid, "expires at creation")
}

func errorsIsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
func errorsIsFull(err error) bool     { return errors.Is(err, store.ErrFull) }
