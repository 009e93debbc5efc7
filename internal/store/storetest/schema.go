package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"sesame/internal/store"
)

// CheckSchemaTooNew checks, on a migrated database reached through db,
// that migrate refuses a schema newer than known (the binary's latest
// migration): it records migration known+2, as a sesame two versions
// ahead would, and expects store.ErrSchemaTooNew with a message naming
// both versions and the remedy; the database is left as it was.
func CheckSchemaTooNew(t *testing.T, db *sql.DB, migrate func(context.Context) error, known int) {
	t.Helper()
	ctx := context.Background()
	newer := known + 2
	var before int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&before); err != nil {
		t.Fatal(err)
	}
	// Placeholders differ between backends: the values are integers, so
	// they are written into the statement.
	q := fmt.Sprintf("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, '%04d_future.sql', CURRENT_TIMESTAMP)", newer, newer)
	if _, err := db.ExecContext(ctx, q); err != nil {
		t.Fatal(err)
	}
	err := migrate(ctx)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("migrate on a newer schema = %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{fmt.Sprintf("version %d", newer), fmt.Sprintf("version %d", known), "Upgrade sesame", "restore a backup"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != before+1 {
		t.Errorf("schema_migrations has %d rows (%v), want %d", n, err, before+1)
	}
	// Back to the binary's version, the store opens again.
	if _, err := db.ExecContext(ctx, fmt.Sprintf("DELETE FROM schema_migrations WHERE version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx); err != nil {
		t.Fatalf("migrate after removing the newer record: %v", err)
	}
}
