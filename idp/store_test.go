package idp

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
)

type migrator interface {
	store.Store
	Migrate(ctx context.Context) error
}

// openStore opens a migrated SQLite store in a temporary directory.
func openStore(t testing.TB) store.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sesame.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, db)
}

// openPostgres opens a migrated PostgreSQL store on a fresh database.
func openPostgres(t testing.TB) store.Store {
	t.Helper()
	db, err := postgres.Open(context.Background(), testenv.Postgres(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, db)
}

func migrated(t testing.TB, db migrator) store.Store {
	t.Helper()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
