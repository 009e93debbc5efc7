package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/sqldb"
	"sesame/internal/store/sqlite"
	"sesame/internal/store/storetest"
)

func open(t *testing.T, now func() time.Time) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "data", "sesame.db"), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store { return open(t, now) })
	storetest.RunOIDC(t, func(t *testing.T, now func() time.Time) store.Store { return open(t, now) })
}

func TestMigrateIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sesame.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := sqlite.Open(ctx, path, nil)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- db.Migrate(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	want := migrations(t)
	if v, err := db.Version(ctx); err != nil || v != want[len(want)-1].Version {
		t.Fatalf("version = %d, %v; want %d", v, err, want[len(want)-1].Version)
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != len(want) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, len(want))
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := sqlite.Open(ctx, "", nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty path: %v", err)
	}
	// A directory that cannot be created (a file is in the way).
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(ctx, filepath.Join(blocker, "sub", "sesame.db"), nil); err == nil {
		t.Fatal("open under a file succeeded")
	}
}

func TestUnmigratedStoreFails(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sesame.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.GetPerson(context.Background(), "x"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("query on an unmigrated database: %v", err)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "sesame.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		return db
	})
}

// migrations lists the package's migration files, as embedded.
func migrations(t *testing.T) []sqldb.Migration {
	t.Helper()
	ms, err := sqldb.Migrations(os.DirFS("."), "migrations")
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %d, %v", len(ms), err)
	}
	return ms
}

// TestOpenOddPath opens a file whose path has spaces, accents and URI
// characters: the file is created under exactly that name.
func TestOpenOddPath(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dossier été #1", "base?x=1&y%20.db")
	db, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %q: %v", path, err)
	}
}

// TestTransactionsAreImmediate checks that InTx takes the write lock at
// BEGIN: while a transaction that has only read is open, another
// connection cannot write.
func TestTransactionsAreImmediate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sesame.db")
	db, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	write := func() error {
		_, err := other.ExecContext(ctx, "INSERT INTO structures (id, slug, created_at, updated_at) VALUES (?, ?, 'x', 'x')",
			time.Now().String(), time.Now().String())
		return err
	}
	if err := write(); err != nil {
		t.Fatalf("write with no transaction open: %v", err)
	}
	err = db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.GetStructureBySlug(ctx, "none"); !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := write(); err == nil {
			return errors.New("another connection wrote while a transaction was open")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Writers of one process queue on the store's writer mutex: while a
// transaction is open, another waits (and gives up with its context), and
// many concurrent writers all succeed without meeting SQLITE_BUSY.
func TestWritersQueue(t *testing.T) {
	ctx := context.Background()
	db := open(t, nil)
	s := store.Structure{Slug: "le-beta", Name: "Le Bêta", Contact: "c@le-beta.example"}
	if err := db.CreateStructure(ctx, &s); err != nil {
		t.Fatal(err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	// Reads go on while the writer holds its turn (WAL).
	if _, err := db.GetStructure(ctx, s.ID); err != nil {
		t.Fatalf("a read waited for the writer: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := db.InTx(short, func(ctx context.Context, tx store.Tx) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second writer while one is open: %v, want its context's deadline", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				p := store.Person{Username: fmt.Sprintf("p%d.%d", g, i), Email: fmt.Sprintf("p%d.%d@x.example", g, i),
					GivenName: "P", FamilyName: "Q", DisplayName: "P Q", Language: "fr", State: store.StateInvited}
				if err := db.CreatePerson(ctx, &p); err != nil {
					errs <- err
					return
				}
				if err := db.DeleteMembership(ctx, p.ID, s.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSchemaTooNew records a migration newer than the binary knows, as a
// newer sesame would: Migrate refuses the database, says both versions and
// what to do, and applies nothing.
func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	db := open(t, nil)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ms := migrations(t)
	storetest.CheckSchemaTooNew(t, db.SQL(), db.Migrate, ms[len(ms)-1].Version)
}

// A database made readable by every account of the machine (created before
// sesame made its databases 0600, or copied with a umask of 022) is closed
// to others when opened, with its -wal and -shm files; the group's bits
// are kept, as are a file already private.
func TestOpenClosesExistingFilesToOthers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sesame.db")
	db, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{path: 0o644, path + "-wal": 0o666, path + "-shm": 0o604} {
		if err := os.WriteFile(p, nil, 0o600); err != nil && p != path {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	db, err = sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for p, want := range map[string]os.FileMode{path: 0o640, path + "-wal": 0o660, path + "-shm": 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", filepath.Base(p), fi.Mode().Perm(), err, want)
		}
	}
}
