package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"sesame/internal/testenv"
)

// TestSchemaNewerRefusedSQLite and TestSchemaNewerRefusedPostgres record a
// migration newer than this binary's in a migrated store, as a newer sesame
// would: serve and every command that opens the store refuse with exit 1,
// naming both versions and the remedy, and change nothing.
func TestSchemaNewerRefusedSQLite(t *testing.T) {
	clearConfigEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SESAME_DATA_DIR", dir)
	schemaNewerRefused(t, "sqlite", filepath.Join(dir, "sesame.db"))
}

func TestSchemaNewerRefusedPostgres(t *testing.T) {
	clearConfigEnv(t)
	dsn := testenv.Postgres(t)
	t.Setenv("SESAME_DATA_DIR", t.TempDir())
	t.Setenv("SESAME_STORE_DRIVER", "postgres")
	t.Setenv("SESAME_STORE_POSTGRES_DSN", dsn)
	schemaNewerRefused(t, "pgx", dsn)
}

func schemaNewerRefused(t *testing.T, driver, dsn string) {
	t.Setenv("SESAME_LISTEN", "127.0.0.1:0")
	if code, out, errOut := runCLI(t, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var known, rows int
	if err := db.QueryRowContext(ctx, "SELECT MAX(version), COUNT(*) FROM schema_migrations").Scan(&known, &rows); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', CURRENT_TIMESTAMP)"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve"}, {"migrate"}, {"structure", "list"}, {"user", "list"}, {"jobs", "list"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 1 {
			t.Fatalf("%v on a newer schema: exit %d, want 1\n%s%s", args, code, out, errOut)
		}
		for _, want := range []string{"version 9999", "this sesame binary knows (version " + itoa(int64(known)) + ")", "Upgrade sesame", "restore a backup", "Nothing was changed"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, errOut)
			}
		}
	}
	var after int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&after); err != nil || after != rows+1 {
		t.Errorf("schema_migrations has %d rows (%v), want %d", after, err, rows+1)
	}
}
