package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
)

// TestCLILDAPRefusedEntry: one person whose email slapd refuses (written
// straight into the store, as before the import refused invisible
// characters) is announced by ldap diff, reported by ldap sync with slapd's
// reason, and does not keep anybody else or any group out of the directory.
func TestCLILDAPRefusedEntry(t *testing.T) {
	s := testenv.StartSlapd(t)
	dir := cliEnv(t, "")
	t.Setenv("SESAME_LDAP_URL", s.URL)
	t.Setenv("SESAME_LDAP_BIND_DN", s.AdminDN)
	t.Setenv("SESAME_LDAP_BIND_PASSWORD", s.AdminPassword)
	t.Setenv("SESAME_LDAP_BASE_DN", s.BaseDN)
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "ref@example.org")
	mustRun(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud", "--url", "https://cloud.example.org/")
	file := filepath.Join(dir, "people.csv")
	csv := "Prénom;Nom;Courriel;Nextcloud\nAda;Lovelace;ada@example.org;user\nZoé;Martin;zoe@example.org;admin\nAlan;Turing;alan@example.org;user\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "le-beta", file)

	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "sesame.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec("UPDATE people SET email = 'zoe\u200b@example.org', email_fold = 'zoe\u200b@example.org' WHERE email = 'zoe@example.org'"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// The server's jobs: Zoé's and the structure's go dead at once, and
	// jobs list names her with slapd's reason.
	a := &app{out: io.Discard, errOut: io.Discard}
	cfg, err := a.config()
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.store(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMain(cfg, slog.New(slog.DiscardHandler), st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Runner.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.close()
	out := mustRun(t, "jobs", "list")
	if !strings.Contains(out, "dead 2") || strings.Count(out, `zoe.martin <zoe\u200b@example.org>: LDAP Result Code 21 "Invalid Attribute Syntax": mail: value #0 invalid per syntax`) != 2 ||
		!strings.Contains(out, "ldap.structure") || !strings.Contains(out, "ldap.person") {
		t.Fatalf("jobs list after the server's jobs ran:\n%s", out)
	}

	out = ldapRun(t, 1, "ldap", "diff")
	if !strings.Contains(out, `! refused by the directory: mail "zoe\u200b@example.org" holds U+200B`) || !strings.Contains(out, "1 the directory will refuse") {
		t.Fatalf("ldap diff does not announce the refusal:\n%s", out)
	}
	out = ldapRun(t, 1, "ldap", "sync")
	for _, want := range []string{"refused 1 entry", `zoe.martin <zoe\u200b@example.org>: LDAP Result Code 21 "Invalid Attribute Syntax": mail: value #0 invalid per syntax`,
		"everything else was written"} {
		if !strings.Contains(out, want) {
			t.Errorf("ldap sync does not say %q:\n%s", want, out)
		}
	}
	// Only the refused entry is left (the jobs wrote the others already),
	// and her two memberships: the groups were written without her.
	out = ldapRun(t, 1, "ldap", "diff")
	if !strings.Contains(out, "1 missing, 2 to change, 0 extra, 0 conflicts") || !strings.Contains(out, "+ person uid=zoe.martin") ||
		strings.Count(out, "+ member uid=zoe.martin") != 2 || strings.Count(out, "member") != 2 {
		t.Fatalf("ldap diff after the sync:\n%s", out)
	}
}
