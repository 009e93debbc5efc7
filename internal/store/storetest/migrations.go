package storetest

import (
	"context"
	"database/sql"
	"testing"

	"sesame/internal/store"
	"sesame/internal/store/sqldb"
)

// MigratingDB is a backend opened without its migrations applied, as the
// migration tests need it.
type MigratingDB interface {
	store.Store
	SQL() *sql.DB
	ApplyMigrations(ctx context.Context, migrations []sqldb.Migration) error
	Migrate(ctx context.Context) error
}

// backfillRows are audit entries written before 0007, and what 0007 makes
// of them: structure id and person id.
var backfillRows = []struct{ target, details, structureID, personID string }{
	{"structure:le-beta", `{"import_id":"i1"}`, "s1", ""},
	{"structure:gone", `null`, "", ""},
	{"person:p1", `{"email":"x"}`, "", "p1"},
	{"mail:<job-1.mail.activate@sso>", `{"job_id":1,"person_id":"p1"}`, "", "p1"},
	{"mail:<job-2>", `{"person_id":7}`, "", ""},
	{"", `{"person_id":null}`, "", ""},
}

// Migration0007Backfill applies the migrations before 0007 to db (empty),
// writes audit entries as sesame did then, and checks that 0007 fills in
// the structure and person they concern. migrations are the backend's.
func Migration0007Backfill(t *testing.T, db MigratingDB, migrations []sqldb.Migration) {
	t.Helper()
	ctx := context.Background()
	var before []sqldb.Migration
	for _, m := range migrations {
		if m.Version < 7 {
			before = append(before, m)
		}
	}
	if err := db.ApplyMigrations(ctx, before); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, "INSERT INTO structures (id, slug, name, contact, created_at, updated_at) VALUES ('s1', 'le-beta', 'Le Bêta', '', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')"); err != nil {
		t.Fatal(err)
	}
	for _, r := range backfillRows {
		if _, err := db.SQL().ExecContext(ctx, "INSERT INTO audit (time, actor, action, target, details) VALUES ('2026-01-01T00:00:00.000000Z', 'cli:root', 'x', '"+r.target+"', '"+r.details+"')"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := db.ListAudit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(backfillRows) {
		t.Fatalf("%d entries", len(list))
	}
	for i, r := range backfillRows {
		got := list[len(list)-1-i]
		if got.StructureID != r.structureID || got.PersonID != r.personID {
			t.Errorf("%s %s: structure %q person %q, want %q %q", r.target, r.details, got.StructureID, got.PersonID, r.structureID, r.personID)
		}
	}
}
