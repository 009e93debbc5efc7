package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"sesame/internal/store/sqlite"
	"sesame/internal/store/storetest"
)

// TestMigration0007Backfill: see storetest.Migration0007Backfill.
func TestMigration0007Backfill(t *testing.T) {
	storetest.Migration0007Backfill(t, openEmptySqlite(t), migrations(t))
}

// TestMigration0011Defaults: see storetest.Migration0011Defaults.
func TestMigration0011Defaults(t *testing.T) {
	storetest.Migration0011Defaults(t, openEmptySqlite(t), migrations(t))
}

func openEmptySqlite(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sesame.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
