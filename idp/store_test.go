package idp

import (
	"context"
	"path/filepath"
	"strings"
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

// postgresPerCase gives each case of a suite its own, empty PostgreSQL
// store: the suite creates and migrates one database, and each call opens
// a store on it and empties every table (but the migrations' own) for the
// case. Creating and migrating a database costs about a second, a suite
// has dozens of cases. The cases must not run in parallel.
func postgresPerCase(t *testing.T) func(testing.TB) store.Store {
	t.Helper()
	dsn := testenv.Postgres(t)
	return func(tb testing.TB) store.Store {
		tb.Helper()
		ctx := context.Background()
		db, err := postgres.Open(ctx, dsn, time.Now)
		if err != nil {
			tb.Fatal(err)
		}
		st := migrated(tb, db)
		rows, err := db.SQL().QueryContext(ctx,
			`SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'`)
		if err != nil {
			tb.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				tb.Fatal(err)
			}
			tables = append(tables, name)
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
		if len(tables) == 0 {
			tb.Fatal("postgresPerCase: no tables to empty")
		}
		// DELETE is much cheaper than TRUNCATE on tables this small; with
		// the foreign-key triggers off for the transaction, in any order.
		var q strings.Builder
		q.WriteString("BEGIN; SET LOCAL session_replication_role = replica;")
		for _, name := range tables {
			q.WriteString(" DELETE FROM " + name + ";")
		}
		q.WriteString(" COMMIT;")
		if _, err := db.SQL().ExecContext(ctx, q.String()); err != nil {
			tb.Fatal(err)
		}
		return st
	}
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
