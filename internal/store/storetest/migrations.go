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
	applyBefore(t, db, migrations, 7)
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

// applyBefore applies to db the migrations before version.
func applyBefore(t *testing.T, db MigratingDB, migrations []sqldb.Migration, version int) {
	t.Helper()
	var before []sqldb.Migration
	for _, m := range migrations {
		if m.Version < version {
			before = append(before, m)
		}
	}
	if err := db.ApplyMigrations(context.Background(), before); err != nil {
		t.Fatal(err)
	}
}

// Migration0011Defaults applies the migrations before 0011 to db (empty),
// writes rows as sesame did then, and checks that after 0011 they read as
// asking and proving no second factor: default policy, no requirement, no
// grace period, no AMR. migrations are the backend's.
func Migration0011Defaults(t *testing.T, db MigratingDB, migrations []sqldb.Migration) {
	t.Helper()
	ctx := context.Background()
	applyBefore(t, db, migrations, 11)
	const at = "'2026-01-01T00:00:00.000000Z'"
	for _, q := range []string{
		"INSERT INTO structures (id, slug, created_at, updated_at) VALUES ('s1', 'le-beta', " + at + ", " + at + ")",
		"INSERT INTO services (id, structure_id, kind, slug, created_at, updated_at) VALUES ('v1', 's1', 'generic', 'wiki', " + at + ", " + at + ")",
		"INSERT INTO people (id, username, email, email_fold, state, created_at, updated_at) VALUES ('p1', 'p', 'p@x.org', 'p@x.org', 'active', " + at + ", " + at + ")",
		"INSERT INTO oidc_auth_requests (id, client_id, redirect_uri, scopes, state, nonce, code_challenge, code_challenge_method, " +
			"response_type, prompt, max_age, person_id, sid, done, expires_at, created_at) " +
			"VALUES ('ar1', 'c', '', 'null', '', '', '', '', 'code', 'null', 0, 'p1', '', FALSE, " + at + ", " + at + ")",
		"INSERT INTO oidc_sessions (hash, sid, person_id, created_at, expires_at, clients) VALUES ('', 'sid1', 'p1', " + at + ", " + at + ", 'null')",
		"INSERT INTO oidc_token_families (id, client_id, person_id, sid, scopes, expires_at, created_at) VALUES ('f1', 'c', 'p1', 'sid1', 'null', " + at + ", " + at + ")",
	} {
		if _, err := db.SQL().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := db.GetStructure(ctx, "s1")
	if err != nil || s.MFAPolicy != store.MFADefault {
		t.Errorf("structure: %+v, %v", s, err)
	}
	v, err := db.GetService(ctx, "v1")
	if err != nil || v.RequireMFA || v.ReferentAddress { // (0012: vouched for when given)
		t.Errorf("service: %+v, %v", v, err)
	}
	p, err := db.GetPerson(ctx, "p1")
	if err != nil || !p.MFAGraceUntil.IsZero() {
		t.Errorf("person: %+v, %v", p, err)
	}
	ar, err := db.GetAuthRequest(ctx, "ar1")
	if err != nil || ar.AMR != nil || ar.RequireMFA {
		t.Errorf("auth request: %+v, %v", ar, err)
	}
	sess, err := db.GetSSOSessionBySID(ctx, "sid1")
	if err != nil || sess.AMR != nil {
		t.Errorf("session: %+v, %v", sess, err)
	}
	f, err := db.GetTokenFamily(ctx, "f1")
	if err != nil || f.AMR != nil {
		t.Errorf("token family: %+v, %v", f, err)
	}
	if list, err := db.ListSecondFactors(ctx, "p1"); err != nil || len(list) != 0 {
		t.Errorf("second factors: %+v, %v", list, err)
	}
}
