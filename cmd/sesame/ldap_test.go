package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/testenv"
	"sesame/ldapsync"
)

// TestCLILDAP drives ldap check, diff and sync against a real slapd, after
// an import of people with hostile names.
func TestCLILDAP(t *testing.T) {
	s := testenv.StartSlapd(t)
	dir := cliEnv(t, "")

	ldapRun(t, 1, "ldap", "diff")
	if out := ldapRun(t, 1, "ldap", "check"); !strings.Contains(out, "LDAP is not configured") {
		t.Fatalf("ldap check without ldap.url:\n%s", out)
	}
	t.Setenv("SESAME_LDAP_URL", s.URL)
	t.Setenv("SESAME_LDAP_BIND_DN", s.AdminDN)
	t.Setenv("SESAME_LDAP_BIND_PASSWORD", s.AdminPassword)
	t.Setenv("SESAME_LDAP_BASE_DN", s.BaseDN)

	if out := ldapRun(t, 0, "ldap", "check"); !strings.Contains(out, "ready for sesame") || !strings.Contains(out, "[ok  ] argon2") {
		t.Fatalf("ldap check:\n%s", out)
	}
	mustRun(t, "structure", "add", "le-beta", "--name", `Le Bêta, "l'asso"`, "--contact", "ref@example.org")
	mustRun(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud", "--url", "https://cloud.example.org/")

	type row struct{ given, family, email, role string }
	rows := []row{
		{"Jean, Jr.", "O'Brien+Smith", "jean@example.org", "admin"},
		{"<Zoë>", `Back\slash; "quoted"`, "zoe@example.org", "user"},
		{"#Hash", "a=b", "hash@example.org", "user"},
		{"Łukasz", "Żółć 李", "lukasz@example.org", "user"},
	}
	csv := func(rows []row) string {
		var b strings.Builder
		b.WriteString("Prénom;Nom;Courriel;Nextcloud\n")
		for _, r := range rows {
			q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
			b.WriteString(q(r.given) + ";" + q(r.family) + ";" + r.email + ";" + r.role + "\n")
		}
		return b.String()
	}
	file := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(file, []byte(csv(rows)), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "le-beta", file)

	if out := ldapRun(t, 1, "ldap", "diff"); !strings.Contains(out, "+ person uid=") || !strings.Contains(out, "8 missing") {
		t.Fatalf("ldap diff before sync:\n%s", out)
	}
	ldapRun(t, 0, "ldap", "sync")
	if out := ldapRun(t, 0, "ldap", "diff"); !strings.Contains(out, "matches the store") {
		t.Fatalf("ldap diff after sync:\n%s", out)
	}
	ldapRun(t, 0, "ldap", "diff", "--structure", "le-beta")
	ldapRun(t, 2, "ldap", "diff", "--structure", "nope")

	lc, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	if err := lc.Bind(s.AdminDN, s.AdminPassword); err != nil {
		t.Fatal(err)
	}
	people := "ou=people," + s.BaseDN
	for _, r := range rows {
		res, err := lc.Search(ldap.NewSearchRequest(people, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
			"(&(givenName="+ldapsync.EscapeFilterValue(r.given)+")(sn="+ldapsync.EscapeFilterValue(r.family)+"))",
			[]string{"givenName", "sn", "mail", "memberOf"}, nil))
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("%q %q: %v, %d entries", r.given, r.family, err, len(res.Entries))
		}
		e := res.Entries[0]
		if e.GetAttributeValue("givenName") != r.given || e.GetAttributeValue("sn") != r.family {
			t.Fatalf("%q %q came back as %q %q", r.given, r.family, e.GetAttributeValue("givenName"), e.GetAttributeValue("sn"))
		}
		if n := len(e.GetAttributeValues("memberOf")); n != 2 {
			t.Fatalf("%s is in %d groups, want 2", e.DN, n)
		}
	}

	// A sync-mode re-import drops Zoë and demotes Jean: diff shows it,
	// sync applies it.
	if err := os.WriteFile(file, []byte(csv([]row{{rows[0].given, rows[0].family, rows[0].email, "user"}, rows[2], rows[3]})), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "le-beta", file, "--mode", "sync")
	out := ldapRun(t, 1, "ldap", "diff")
	if !strings.Contains(out, "- member uid=") || !strings.Contains(out, "+ member uid=") {
		t.Fatalf("ldap diff after a sync-mode import:\n%s", out)
	}
	ldapRun(t, 0, "ldap", "sync")
	ldapRun(t, 0, "ldap", "diff")

	s.Stop()
	if out := ldapRun(t, 1, "ldap", "check"); !strings.Contains(out, "FAIL") {
		t.Fatalf("ldap check with slapd down:\n%s", out)
	}
	if out := ldapRun(t, 1, "ldap", "sync"); !strings.Contains(out, "unavailable") {
		t.Fatalf("ldap sync with slapd down:\n%s", out)
	}
}

// ldapRun runs the command line, checks its exit status and returns both
// outputs together.
func ldapRun(t *testing.T, want int, args ...string) string {
	t.Helper()
	code, out, errOut := sesame(t, args...)
	if code != want {
		t.Fatalf("sesame %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out + errOut
}

// TestServeRegistersLDAPJobs checks the server's wiring: without a
// directory, no LDAP job is queued and those an earlier configuration left
// pending are cleared at start, with a log line saying so; with a directory
// configured, ldap.person jobs enqueued by the store's users are run by the
// server's runner and reach slapd.
func TestServeRegistersLDAPJobs(t *testing.T) {
	s := testenv.StartSlapd(t)
	dir := cliEnv(t, "")
	t.Setenv("SESAME_SECRETS_KEY_FILE", filepath.Join(dir, "key"))
	a := &app{out: io.Discard, errOut: io.Discard}
	cfg, err := a.config()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := a.store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	p := store.Person{Username: "wired", Email: "wired@example.org", FamilyName: "Wired", Language: "fr", State: store.StateInvited}
	if err := st.CreatePerson(ctx, &p); err != nil {
		t.Fatal(err)
	}
	enqueue := func() bool {
		t.Helper()
		ok, err := jobs.Enqueue(ctx, st, jobs.KindLDAPPerson, jobs.DedupeLDAPPerson(p.ID), jobs.PersonRef{PersonID: p.ID})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	pending := func() int {
		t.Helper()
		c, err := st.CountJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c[store.JobPending]
	}
	if enqueue() || pending() != 0 {
		t.Fatal("LDAP is off, yet the store queued an LDAP job")
	}
	// Jobs left by an earlier configuration where LDAP was on.
	st.SetDisabledJobSinks()
	if !enqueue() || pending() != 1 {
		t.Fatal("the job of an earlier configuration was not queued")
	}
	var logs strings.Builder
	m, err := NewMain(cfg, slog.New(slog.NewTextHandler(&logs, nil)), st)
	if err != nil {
		t.Fatal(err)
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d LDAP jobs still pending after start without LDAP", n)
	}
	if !strings.Contains(logs.String(), "cleared 1 pending ldap.* jobs") || !strings.Contains(logs.String(), "sesame ldap sync") {
		t.Fatalf("start without LDAP logged:\n%s", logs.String())
	}
	if enqueue() {
		t.Fatal("after start without LDAP, the store queued an LDAP job")
	}

	cfg.LDAP.URL, cfg.LDAP.BindDN, cfg.LDAP.BindPassword, cfg.LDAP.BaseDN = s.URL, s.AdminDN, s.AdminPassword, s.BaseDN
	if err := m.registerLDAP(); err != nil {
		t.Fatal(err)
	}
	if !enqueue() {
		t.Fatal("with LDAP on, the store did not queue the LDAP job")
	}
	if n, err := m.Runner.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RunOnce: %d, %v", n, err)
	}
	if c, _ := st.CountJobs(ctx); c[store.JobDone] != 1 {
		t.Fatalf("jobs: %v", c)
	}
	lc, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	if err := lc.Bind(s.AdminDN, s.AdminPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Search(ldap.NewSearchRequest("uid=wired,ou=people,"+s.BaseDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", nil, nil)); err != nil {
		t.Fatalf("the job did not write the person: %v", err)
	}
}
