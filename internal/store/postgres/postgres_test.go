package postgres_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqldb"
	"sesame/internal/store/storetest"
	"sesame/internal/testenv"
)

func open(t *testing.T, dsn string, now func() time.Time) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	opener := func(t *testing.T, now func() time.Time) store.Store {
		db := open(t, testenv.Postgres(t), now)
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	storetest.Run(t, opener)
	storetest.RunOIDC(t, opener)
}

// TestMigrateConcurrent has four connections pools migrate one database at
// once: the advisory lock makes them take turns, and each migration is
// applied once.
func TestMigrateConcurrent(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		db := open(t, dsn, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
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
	db := open(t, dsn, nil)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	want := migrations(t)
	var n int
	if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != len(want) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, len(want))
	}
	if v, err := db.Version(ctx); err != nil || v != want[len(want)-1].Version {
		t.Fatalf("version = %d, %v; want %d", v, err, want[len(want)-1].Version)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := postgres.Open(ctx, "", nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty DSN: %v", err)
	}
	port := testenv.FreePort(t)
	dsn := "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/postgres?sslmode=disable&connect_timeout=2"
	if _, err := postgres.Open(ctx, dsn, nil); err == nil {
		t.Fatal("open of a server that is down succeeded")
	}
	if _, err := postgres.Open(ctx, "postgres://[::1", nil); err == nil {
		t.Fatal("open of a broken DSN succeeded")
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		db, err := postgres.Open(context.Background(), testenv.Postgres(b), nil)
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

// TestSchemaTooNew records a migration newer than the binary knows, as a
// newer sesame would: Migrate refuses the database, says both versions and
// what to do, and applies nothing.
func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	db := open(t, testenv.Postgres(t), nil)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ms := migrations(t)
	storetest.CheckSchemaTooNew(t, db.SQL(), db.Migrate, ms[len(ms)-1].Version)
}
