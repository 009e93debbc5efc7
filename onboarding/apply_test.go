package onboarding

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
)

const firstFile = "Prénom;Nom;Courriel;Droits;Téléphone\r\n" +
	"Élodie;Hervé;Elodie.Herve@Example.org;nextcloud:admin, site:éditeur;0600000000\r\n" +
	"Jean;Dupont;jean@example.org;nextcloud;\r\n" +
	"Jean;Dupont;jean.d@example.org;compta:trésorier;\r\n" +
	"\r\n" +
	"Zoé;Œuvre;zoe@example.org;;\r\n"

func countJobs(t testing.TB, st store.Store, kind string) int {
	t.Helper()
	js, err := st.ListJobs(context.Background(), store.JobFilter{Kind: kind, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return len(js)
}

func allJobs(t testing.TB, st store.Store) int {
	t.Helper()
	n := 0
	counts, err := st.CountJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		n += c
	}
	return n
}

func person(t testing.TB, st store.Store, email string) store.Person {
	t.Helper()
	p, err := st.GetPersonByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("person %s: %v", email, err)
	}
	return p
}

func grantsOf(t testing.TB, st store.Store, personID string) map[string]string {
	t.Helper()
	gs, err := st.ListGrants(context.Background(), store.GrantFilter{PersonID: personID})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, g := range gs {
		m[g.ServiceID] = g.Role
	}
	return m
}

func TestImportCreatesThenReapplyChangesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		f := newFixture(t, st, c, "le-beta")
		res := f.importFile(t, firstFile, nil)
		if res.Status != StatusApplied {
			t.Fatalf("status %s: %s", res.Status, res.Report.JSON())
		}
		s := res.Report.Summary
		if s.Create != 4 || s.Error != 0 || s.Warning != 2 {
			t.Fatalf("summary %+v", s)
		}
		golden(t, "first_import.json", res.Report.JSON())

		e := person(t, st, "elodie.herve@example.org")
		if e.Username != "elodie.herve" || e.State != store.StateInvited || e.Language != "fr" || e.DisplayName != "Élodie Hervé" {
			t.Errorf("élodie = %+v", e)
		}
		if g := grantsOf(t, st, e.ID); g[f.services["nextcloud"].ID] != "admin" || g[f.services["site"].ID] != "editor" || len(g) != 2 {
			t.Errorf("élodie grants = %v", g)
		}
		if p := person(t, st, "jean.d@example.org"); p.Username != "jean.dupont2" {
			t.Errorf("second Jean Dupont = %s", p.Username)
		}
		if g := grantsOf(t, st, person(t, st, "jean.d@example.org").ID); g[f.services["compta"].ID] != "Trésorier" {
			t.Errorf("paheko grant = %v", g)
		}
		if p := person(t, st, "zoe@example.org"); p.Username != "zoe.oeuvre" {
			t.Errorf("zoé = %s", p.Username)
		}
		ms, _ := st.ListMemberships(ctx, store.MembershipFilter{StructureID: f.structure.ID})
		if len(ms) != 4 {
			t.Errorf("memberships = %d", len(ms))
		}
		if n := countJobs(t, st, jobs.KindLDAPPerson); n != 4 {
			t.Errorf("ldap.person jobs = %d", n)
		}
		if n := countJobs(t, st, jobs.KindMailActivate); n != 4 {
			t.Errorf("mail.activate jobs = %d", n)
		}
		if n := countJobs(t, st, jobs.KindLDAPStructure); n != 1 {
			t.Errorf("ldap.structure jobs = %d", n)
		}
		// The activation job's nonce gives a token the store knows.
		js, _ := st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindMailActivate})
		var tm jobs.TokenMail
		if err := json.Unmarshal(js[0].Payload, &tm); err != nil {
			t.Fatal(err)
		}
		tok, err := st.GetToken(ctx, Hash(f.im.Tokens.Secret(tm.Nonce)))
		if err != nil || tok.Purpose != store.PurposeActivate || tm.StructureID != f.structure.ID {
			t.Errorf("token = %+v, %v", tok, err)
		}

		before := allJobs(t, st)
		res = f.importFile(t, firstFile, nil)
		if s := res.Report.Summary; res.Status != StatusApplied || s.Unchanged != 4 || s.Create+s.Update+s.Disable+s.Error != 0 {
			t.Fatalf("re-import: %s %+v", res.Status, s)
		}
		if after := allJobs(t, st); after != before {
			t.Errorf("re-import enqueued %d jobs", after-before)
		}
		ims, err := st.ListImports(ctx, f.structure.ID)
		if err != nil || len(ims) != 2 {
			t.Fatalf("imports = %d, %v", len(ims), err)
		}
		if ims[0].Actor != "test:alice" || ims[0].FileDigest == "" || ims[0].Mode != store.ModeAdd || ims[0].Counts["unchanged"] != 4 {
			t.Errorf("import record = %+v", ims[0])
		}
		audit, err := st.ListAudit(ctx, store.AuditFilter{Target: "structure:le-beta", Action: "import.apply"})
		if err != nil || len(audit) != 2 {
			t.Errorf("audit = %d, %v", len(audit), err)
		}
	})
}

func TestImportRejectsFileWithErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		f := newFixture(t, st, c, "le-beta")
		file := firstFile + "Bad;Row;not-an-email;mastodon\r\n"
		res := f.importFile(t, file, nil)
		if res.Status != StatusRejected || res.Report.Summary.Error != 1 {
			t.Fatalf("status %s %+v", res.Status, res.Report.Summary)
		}
		golden(t, "rejected_en.json", f.importFile(t, file, func(r *Request) { r.Lang = "en"; r.DryRun = true }).Report.JSON())
		people, _ := st.ListPeople(ctx, store.PeopleFilter{})
		if len(people) != 0 || allJobs(t, st) != 0 {
			t.Fatalf("rejected import wrote %d people, %d jobs", len(people), allJobs(t, st))
		}
		ims, _ := st.ListImports(ctx, f.structure.ID)
		if len(ims) != 2 || ims[1].Status != StatusRejected || ims[0].Status != StatusDryRun || !ims[0].DryRun {
			t.Errorf("imports = %+v", ims)
		}
		if a, _ := st.ListAudit(ctx, store.AuditFilter{Action: "import.rejected"}); len(a) != 1 {
			t.Errorf("audit import.rejected = %d", len(a))
		}

		res = f.importFile(t, file, func(r *Request) { r.SkipInvalid = true })
		if res.Status != StatusApplied || res.Report.Summary.Create != 4 || res.Report.Summary.Error != 1 {
			t.Fatalf("skip-invalid: %s %+v", res.Status, res.Report.Summary)
		}
		people, _ = st.ListPeople(ctx, store.PeopleFilter{})
		if len(people) != 4 {
			t.Errorf("people = %d", len(people))
		}
	})
}

func TestImportFileErrorsAreRecorded(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		f := newFixture(t, st, c, "le-beta")
		f.im.Options = Options{MaxRows: 2}
		res := f.importFile(t, firstFile, func(r *Request) { r.SkipInvalid = true })
		if res.Status != StatusRejected || len(res.Report.Rows) != 1 || res.Report.Rows[0].Errors[0].Message == "" {
			t.Fatalf("%s %s", res.Status, res.Report.JSON())
		}
		if people, _ := st.ListPeople(context.Background(), store.PeopleFilter{}); len(people) != 0 {
			t.Errorf("people = %d", len(people))
		}
	})
}

func TestImportDryRunChangesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		f := newFixture(t, st, c, "le-beta")
		res := f.importFile(t, firstFile, func(r *Request) { r.DryRun = true })
		if res.Status != StatusDryRun || res.Report.Summary.Create != 4 {
			t.Fatalf("%s %+v", res.Status, res.Report.Summary)
		}
		if people, _ := st.ListPeople(ctx, store.PeopleFilter{}); len(people) != 0 || allJobs(t, st) != 0 {
			t.Errorf("dry run wrote %d people", len(people))
		}
		if a, _ := st.ListAudit(ctx, store.AuditFilter{Action: "import.dry-run"}); len(a) != 1 {
			t.Errorf("audit = %d", len(a))
		}
	})
}

func TestImportUpdates(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		f := newFixture(t, st, c, "le-beta")
		f.importFile(t, firstFile, nil)
		jean := person(t, st, "jean@example.org")
		// Jean activated his account meanwhile.
		if _, err := st.UpdatePerson(ctx, jean.ID, func(p *store.Person) error {
			p.State, p.PasswordHash = store.StateActive, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		ldapBefore := countJobs(t, st, jobs.KindLDAPPerson)
		file := "Prénom;Nom;Courriel;Droits;Langue\n" +
			"Élodie;Hervé-Martin;elodie.herve@example.org;nextcloud:user;\n" + // name and role change, site right removed
			"Jean;Dupont;jean@example.org;nextcloud, site:auteur;en\n" + // new service and language
			"Jean;Dupont;jean.d@example.org;compta:trésorier;\n" + // unchanged
			"Zoé;Œuvre;zoe@example.org;;\n" // unchanged
		res := f.importFile(t, file, nil)
		golden(t, "update.json", res.Report.JSON())
		if s := res.Report.Summary; s.Update != 2 || s.Unchanged != 2 {
			t.Fatalf("summary %+v", s)
		}
		e := person(t, st, "elodie.herve@example.org")
		if e.FamilyName != "Hervé-Martin" || e.Username != "elodie.herve" {
			t.Errorf("élodie = %+v", e)
		}
		if g := grantsOf(t, st, e.ID); len(g) != 1 || g[f.services["nextcloud"].ID] != "user" {
			t.Errorf("élodie grants = %v", g)
		}
		if j := person(t, st, "jean@example.org"); j.Language != "en" || j.State != store.StateActive {
			t.Errorf("jean = %+v", j)
		}
		// Élodie's ldap job was still pending (deduplicated); Jean's too.
		if n := countJobs(t, st, jobs.KindLDAPPerson); n != ldapBefore {
			t.Errorf("ldap.person jobs %d -> %d (pending ones dedupe)", ldapBefore, n)
		}
		access, _ := st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindMailAccess})
		if len(access) != 1 {
			t.Fatalf("mail.access jobs = %d", len(access))
		}
		var am jobs.AccessMail
		_ = json.Unmarshal(access[0].Payload, &am)
		if am.PersonID != jean.ID || len(am.ServiceIDs) != 1 || am.ServiceIDs[0] != f.services["site"].ID {
			t.Errorf("access mail = %+v", am)
		}
		// A file without any rights column leaves rights alone.
		res = f.importFile(t, "courriel\nelodie.herve@example.org\n", nil)
		if res.Report.Summary.Unchanged != 1 || len(grantsOf(t, st, e.ID)) != 1 {
			t.Errorf("no-rights file: %+v", res.Report.Summary)
		}
	})
}

func TestImportLinksPersonFromAnotherStructure(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		a.importFile(t, "email;prénom;nom;quota\nshared@example.org;Camille;Secret;5 Go\n", nil)
		p := person(t, st, "shared@example.org")
		if _, err := st.UpdatePerson(ctx, p.ID, func(x *store.Person) error { x.State = store.StateActive; return nil }); err != nil {
			t.Fatal(err)
		}
		res := b.importFile(t, "email;prénom;nom;droits\nSHARED@example.org;Cam;Autre;nextcloud\nnew@example.org;Camille;Secret;\n", nil)
		golden(t, "linked.json", res.Report.JSON())
		out := string(res.Report.JSON())
		// Nor its username: a referent who uploads addresses learns that an
		// account exists, not what it is called.
		for _, leak := range []string{"Secret\"", "5 GB", "alpha", "camille.secret\""} {
			if strings.Contains(strings.SplitN(out, "new@example.org", 2)[0], leak) {
				t.Errorf("report reveals %q from the other structure:\n%s", leak, out)
			}
		}
		if res.Report.Rows[0].Action != ActCreate || res.Report.Rows[0].Username != "" {
			t.Errorf("row = %+v", res.Report.Rows[0])
		}
		// The person's own history says how they came into beta.
		links, _ := st.ListAudit(ctx, store.AuditFilter{Target: "person:" + p.ID, Action: "person.link"})
		if len(links) != 1 || links[0].Actor != "test:alice" || links[0].Details["structure"] != "beta" {
			t.Errorf("audit of the link: %+v", links)
		}
		// The hoster's preview names it.
		hosted := b.importFile(t, "email\nshared@example.org\n", func(r *Request) { r.Hoster, r.DryRun = true, true })
		if u := hosted.Report.Rows[0].Username; u != "camille.secret" {
			t.Errorf("the hoster's preview names the account %q", u)
		}
		if res.Report.Rows[1].Username != "camille.secret2" {
			t.Errorf("second camille = %s", res.Report.Rows[1].Username)
		}
		people, _ := st.ListPeople(ctx, store.PeopleFilter{})
		if len(people) != 2 {
			t.Errorf("people = %d", len(people))
		}
		if q := person(t, st, "shared@example.org"); q.GivenName != "Camille" || q.FamilyName != "Secret" {
			t.Errorf("linking overwrote the person: %+v", q)
		}
		ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID})
		if len(ms) != 2 {
			t.Errorf("memberships = %d", len(ms))
		}
		if n := countJobs(t, st, jobs.KindMailActivate); n != 2 { // shared (alpha) and new (beta)
			t.Errorf("mail.activate = %d", n)
		}
		if n := countJobs(t, st, jobs.KindMailAccess); n != 1 {
			t.Errorf("mail.access = %d", n)
		}
		// Same file again: nothing.
		before := allJobs(t, st)
		res = b.importFile(t, "email;prénom;nom;droits\nSHARED@example.org;Cam;Autre;nextcloud\nnew@example.org;Camille;Secret;\n", nil)
		if res.Report.Summary.Unchanged != 2 || allJobs(t, st) != before {
			t.Errorf("second import: %+v, %d new jobs", res.Report.Summary, allJobs(t, st)-before)
		}
	})
}

func TestImportSyncDisables(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		a.importFile(t, "email;nom;droits\nonly@example.org;Seul;nextcloud\nboth@example.org;Deux;nextcloud\nstays@example.org;Reste;\n", nil)
		b.importFile(t, "email;nom\nboth@example.org;Deux\n", nil)
		// Add mode never removes anyone.
		res := a.importFile(t, "email;nom;droits\nstays@example.org;Reste;\n", nil)
		if res.Report.Summary.Disable != 0 {
			t.Fatalf("add mode disabled people: %+v", res.Report.Summary)
		}
		res = a.importFile(t, "email;nom;droits\nstays@example.org;Reste;\n", func(r *Request) { r.Mode = store.ModeSync; r.DryRun = true })
		if res.Report.Summary.Disable != 2 {
			t.Fatalf("sync dry run: %+v", res.Report.Summary)
		}
		if ms, _ := st.ListMemberships(ctx, store.MembershipFilter{StructureID: a.structure.ID}); len(ms) != 3 {
			t.Fatalf("dry run removed members")
		}
		res = a.importFile(t, "email;nom;droits\nstays@example.org;Reste;\n", func(r *Request) { r.Mode = store.ModeSync })
		golden(t, "sync.json", res.Report.JSON())
		only, both := person(t, st, "only@example.org"), person(t, st, "both@example.org")
		if only.State != store.StateDisabled {
			t.Errorf("only = %s", only.State)
		}
		if both.State == store.StateDisabled {
			t.Errorf("both was disabled although still a member of beta")
		}
		if g := grantsOf(t, st, only.ID); len(g) != 0 {
			t.Errorf("only keeps grants %v", g)
		}
		// The provider is asked to end the disabled person's sessions (and
		// only theirs: both keeps beta's services).
		if js, _ := st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindOIDCEndSessions}); len(js) != 1 ||
			!strings.Contains(string(js[0].Payload), only.ID) {
			t.Errorf("end-sessions jobs after the sync: %+v", js)
		}
		if ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: both.ID}); len(ms) != 1 || ms[0].StructureID != b.structure.ID {
			t.Errorf("both memberships = %+v", ms)
		}
		// Coming back re-enables.
		res = a.importFile(t, "email;nom\nonly@example.org;Seul\n", nil)
		if p := person(t, st, "only@example.org"); p.State != store.StateInvited || res.Report.Summary.Create != 1 {
			t.Errorf("re-added: %s %+v", p.State, res.Report.Summary)
		}
	})
}

func TestImportUnknownStructureAndMode(t *testing.T) {
	st := openSQLite(t, newClock().Now)
	im := &Importer{Store: st, Tokens: &Tokens{Key: testKey}}
	if _, err := im.Import(context.Background(), Request{Structure: "nope", Data: []byte("email\n")}); err == nil || !strings.Contains(err.Error(), "unknown structure") {
		t.Errorf("err = %v", err)
	}
	if _, err := im.Import(context.Background(), Request{Structure: "nope", Mode: "delete"}); err == nil {
		t.Error("mode delete accepted")
	}
}

// TestConcurrentImportsPostgres runs two imports of overlapping files at the
// same time, many times: no email is created twice and no username is given
// to two people.
func TestConcurrentImportsPostgres(t *testing.T) {
	c := newClock()
	st := openPostgres(t, c.Now)
	a := newFixture(t, st, c, "alpha")
	b := newFixture(t, st, c, "beta")
	ctx := context.Background()
	for round := 0; round < 8; round++ {
		var fa, fb strings.Builder
		fa.WriteString("prénom;nom;email;droits\n")
		fb.WriteString("prénom;nom;email;droits\n")
		for i := 0; i < 15; i++ {
			// Same names everywhere (username collisions), shared emails
			// for i%3 == 0 (the same person in both files).
			fmt.Fprintf(&fa, "Jean;Dupont;r%d-a%d@example.org;nextcloud\n", round, i)
			if i%3 == 0 {
				fmt.Fprintf(&fb, "Jean;Dupont;r%d-a%d@example.org;nextcloud\n", round, i)
			} else {
				fmt.Fprintf(&fb, "Jean;Dupont;r%d-b%d@example.org;site\n", round, i)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, job := range []struct {
			f    *fixture
			data string
		}{{a, fa.String()}, {b, fb.String()}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := job.f.im.Import(ctx, Request{Structure: job.f.structure.Slug, Data: []byte(job.data), Actor: "test"})
				if err == nil && res.Status != StatusApplied {
					err = fmt.Errorf("status %s", res.Status)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	people, err := st.ListPeople(ctx, store.PeopleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	emails, names := map[string]bool{}, map[string]bool{}
	for _, p := range people {
		if emails[p.Email] || names[p.Username] {
			t.Fatalf("duplicate person %s / %s", p.Email, p.Username)
		}
		emails[p.Email], names[p.Username] = true, true
	}
	// Per round: 15 in alpha + 10 only in beta.
	if len(people) != 8*25 {
		t.Errorf("people = %d, want %d", len(people), 8*25)
	}
	shared := person(t, st, "r0-a0@example.org")
	if ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: shared.ID}); len(ms) != 2 {
		t.Errorf("shared person memberships = %d", len(ms))
	}
}

func TestImportUsernames(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		a.importFile(t, "prénom;nom;email\nJean;Dupont;first@example.org\n", nil)
		// Across structures: jean.dupont is taken by alpha's Jean. An
		// explicit username is kept for its row even when a row above
		// would have derived it.
		res := b.importFile(t, "prénom;nom;email;identifiant\n"+
			"Jean;Dupont;a@example.org;\n"+
			"Jean;Dupont;b@example.org;jean.dupont3\n"+
			"Jean;Dupont;c@example.org;\n", nil)
		var got []string
		for _, r := range res.Report.Rows {
			got = append(got, r.Username)
		}
		if strings.Join(got, ",") != "jean.dupont2,jean.dupont3,jean.dupont4" {
			t.Errorf("usernames = %v", got)
		}
		// An explicit username taken by someone else is an error; a person's
		// username never changes.
		res = b.importFile(t, "email;identifiant\nd@example.org;jean.dupont\na@example.org;autre\n", func(r *Request) { r.DryRun = true })
		if res.Report.Rows[0].Action != ActError || res.Report.Rows[1].Action != ActUnchanged || len(res.Report.Rows[1].Warnings) != 2 {
			t.Errorf("rows = %+v", res.Report.Rows)
		}
		if p := person(t, st, "a@example.org"); p.Username != "jean.dupont2" {
			t.Errorf("username changed to %s", p.Username)
		}
	})
}

// TestImportRetriesAfterConcurrentUsername lets another transaction take
// the username an import planned, between its plan and its writes: the
// import runs again, plans afresh and picks the next username.
func TestImportRetriesAfterConcurrentUsername(t *testing.T) {
	c := newClock()
	st, dsn := openPostgresDSN(t, c.Now)
	other, err := postgres.Open(context.Background(), dsn, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	f := newFixture(t, st, c, "alpha")
	runs := 0
	f.im.afterPlan = func(ctx context.Context) {
		runs++
		if runs == 1 {
			p := store.Person{Username: "jean.dupont", Email: "interloper@example.org", State: store.StateInvited, Language: "fr"}
			if err := other.CreatePerson(context.Background(), &p); err != nil {
				t.Errorf("concurrent create: %v", err)
			}
		}
	}
	res := f.importFile(t, "prénom;nom;email\nJean;Dupont;jean@example.org\n", nil)
	if res.Status != StatusApplied || runs < 2 {
		t.Fatalf("status %s after %d runs", res.Status, runs)
	}
	if p := person(t, st, "jean@example.org"); p.Username != "jean.dupont2" {
		t.Errorf("username = %s, want jean.dupont2", p.Username)
	}
	if p := person(t, st, "interloper@example.org"); p.Username != "jean.dupont" {
		t.Errorf("interloper = %s", p.Username)
	}
}

// TestImportFailureAppliesNothing checks that a failure in the middle of an
// apply (here: a token key that is too short, found at the first new
// person) leaves nothing behind, and that a closed store gives an error.
func TestImportFailureAppliesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		f := newFixture(t, st, c, "le-beta")
		f.im.Tokens = &Tokens{Key: []byte("short")}
		_, err := f.im.Import(ctx, Request{Structure: "le-beta", Data: []byte(firstFile), Actor: "test"})
		if err == nil || !strings.Contains(err.Error(), "32 bytes") {
			t.Fatalf("err = %v", err)
		}
		people, _ := st.ListPeople(ctx, store.PeopleFilter{})
		ims, _ := st.ListImports(ctx, f.structure.ID)
		if len(people) != 0 || allJobs(t, st) != 0 || len(ims) != 0 {
			t.Errorf("half-applied: %d people, %d jobs, %d imports", len(people), allJobs(t, st), len(ims))
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.im.Import(ctx, Request{Structure: "le-beta", Data: []byte(firstFile)}); err == nil {
			t.Error("import on a closed store succeeded")
		}
	})
}

// An account that was used (it has a password) and belongs to no structure
// any more — its structure removed, a sync took it out and disabled it — is
// linked by the hoster's import only: a referent's would make it their
// structure's alone, enabled again, with its email, password and second
// factors theirs to manage. The row is an error that says whom to ask, and
// names nobody. An invited account nobody used, and one still in another
// structure (which the referent cannot manage), are linked as before.
func TestImportRefusesAccountsOfNoStructure(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		a.importFile(t, "email;prénom;nom\nused@example.org;Olga;Used\nunused@example.org;Ivan;Unused\nkept@example.org;Kim;Kept\n", nil)
		used, unused, kept := person(t, st, "used@example.org"), person(t, st, "unused@example.org"), person(t, st, "kept@example.org")
		for _, p := range []store.Person{used, kept} {
			if _, err := st.UpdatePerson(ctx, p.ID, func(x *store.Person) error {
				x.State, x.PasswordHash = store.StateActive, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		// alpha's sync keeps only kept@: used@ and unused@ leave it, disabled.
		a.importFile(t, "email\nkept@example.org\n", func(r *Request) { r.Mode = store.ModeSync })
		if p := person(t, st, "used@example.org"); p.State != store.StateDisabled {
			t.Fatalf("after the sync: %s", p.State)
		}

		res := b.importFile(t, "email;prénom;nom\nused@example.org;O;U\nunused@example.org;I;U\nkept@example.org;K;K\n",
			func(r *Request) { r.SkipInvalid = true })
		rows := res.Report.Rows
		if rows[0].Action != ActError || len(rows[0].Errors) != 1 || rows[0].Username != "" ||
			!strings.Contains(rows[0].Errors[0].Message, "seul l'hébergeur peut le rattacher") {
			t.Fatalf("the used account of no structure: %+v", rows[0])
		}
		if p := person(t, st, "used@example.org"); p.State != store.StateDisabled {
			t.Errorf("a referent's import enabled it: %s", p.State)
		}
		if ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: used.ID}); len(ms) != 0 {
			t.Errorf("a referent's import linked it: %+v", ms)
		}
		// An invited account of no structure is refused too: linked, its
		// email was beta's to change, and the activation link with it.
		if rows[1].Action != ActError || len(rows[1].Errors) != 1 || rows[1].Username != "" ||
			!strings.Contains(rows[1].Errors[0].Message, "seul l'hébergeur peut le rattacher") {
			t.Errorf("the unused account of no structure: %+v", rows[1])
		}
		if rows[2].Action != ActCreate {
			t.Errorf("the one still in alpha: %+v", rows[2])
		}
		if ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: unused.ID}); len(ms) != 0 {
			t.Errorf("a referent's import linked the unused account: %+v", ms)
		}
		if p := person(t, st, "unused@example.org"); p.State != store.StateDisabled {
			t.Errorf("a referent's import enabled the unused account: %s", p.State)
		}

		// The hoster links it, and it is enabled with its password.
		res = b.importFile(t, "email;prénom;nom\nused@example.org;O;U\n", func(r *Request) { r.Hoster = true })
		if res.Report.Rows[0].Action != ActCreate || res.Report.Rows[0].Username != used.Username {
			t.Fatalf("the hoster's import: %+v", res.Report.Rows[0])
		}
		if p := person(t, st, "used@example.org"); p.State != store.StateActive {
			t.Errorf("linked by the hoster: %s", p.State)
		}
	})
}

// A referent's row that links an account and gives a username is told the
// username is kept, whatever it gives: no answer tells a right guess from a
// wrong one.
func TestLinkedUsernameIsNoOracle(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		a.importFile(t, "email;prénom;nom\nshared@example.org;Camille;Secret\n", nil)
		res := b.importFile(t, "email;identifiant\nshared@example.org;camille.secret\n", func(r *Request) { r.DryRun = true })
		right := res.Report.Rows[0].Warnings
		res = b.importFile(t, "email;identifiant\nshared@example.org;camille.autre\n", func(r *Request) { r.DryRun = true })
		wrong := res.Report.Rows[0].Warnings
		about := func(ws []ReportIssue) (n int) {
			for _, w := range ws {
				if w.Column == string(FieldUsername) && !strings.Contains(w.Message, "camille.secret »,") {
					n++
				}
			}
			return n
		}
		if about(right) != 1 || about(wrong) != 1 {
			t.Errorf("a right guess %+v, a wrong one %+v", right, wrong)
		}
	})
}

// Preview records nothing (the web pages plan a kept preview again on each
// view); RecordPreview writes its one audit entry, with how many rows link
// an existing account.
func TestPreviewRecordsOnlyWhenAsked(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		a.importFile(t, "email\nshared@example.org\n", nil)
		req := Request{Structure: "beta", FileName: "f.csv", Data: []byte("email\nshared@example.org\nnew@example.org\n"), Actor: "test:bob"}
		res, err := b.im.Preview(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if es, _ := st.ListAudit(ctx, store.AuditFilter{Action: "import.preview"}); len(es) != 0 {
			t.Fatalf("Preview recorded %+v", es)
		}
		if err := b.im.RecordPreview(ctx, req, res); err != nil {
			t.Fatal(err)
		}
		es, _ := st.ListAudit(ctx, store.AuditFilter{Action: "import.preview"})
		if len(es) != 1 || es[0].Actor != "test:bob" || es[0].Target != "structure:beta" || fmt.Sprint(es[0].Details["linked"]) != "1" {
			t.Fatalf("audit of the preview: %+v", es)
		}
	})
}

// The person who imports (a referent, on the web) changes nothing of their
// own account by the file, as the person page refuses it: their names and
// rights stay, with a warning on their row, and a sync whose file forgets
// them does not take them out of the structure.
func TestImportLeavesTheUploaderAlone(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		a.importFile(t, "email;prénom;nom;droits\nref@example.org;Rémi;Ref;nextcloud\nmember@example.org;Mia;Member;nextcloud\n", nil)
		ref := person(t, st, "ref@example.org")
		self := func(r *Request) { r.Self = ref.ID }

		res := a.importFile(t, "email;prénom;nom;droits\nref@example.org;Chef;Suprême;nextcloud:admin,site:administrator\n", self)
		row := res.Report.Rows[0]
		if len(row.Changes) != 0 || !strings.Contains(fmt.Sprint(row.Warnings), "votre propre compte") {
			t.Fatalf("the uploader's own row: %+v", row)
		}
		if got := person(t, st, "ref@example.org"); got.GivenName != "Rémi" || got.FamilyName != "Ref" {
			t.Errorf("the import renamed its uploader: %q %q", got.GivenName, got.FamilyName)
		}
		grants, _ := st.ListGrants(ctx, store.GrantFilter{PersonID: ref.ID})
		if len(grants) != 1 || grants[0].ServiceID != a.services["nextcloud"].ID || grants[0].Role != "user" {
			t.Errorf("the import changed its uploader's rights: %+v", grants)
		}

		res = a.importFile(t, "email\nmember@example.org\n", func(r *Request) { self(r); r.Mode = store.ModeSync })
		if !strings.Contains(fmt.Sprint(res.Report.Warnings), "ne vous retire pas") {
			t.Errorf("no word that the uploader stays: %+v", res.Report.Warnings)
		}
		if ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: ref.ID, StructureID: a.structure.ID}); len(ms) != 1 {
			t.Errorf("the sync took its uploader out of the structure")
		}
		if got := person(t, st, "ref@example.org"); got.State == store.StateDisabled {
			t.Errorf("the sync disabled its uploader")
		}
		// Without Self (the CLI, the hoster's tool), the same file takes them out.
		a.importFile(t, "email\nmember@example.org\n", func(r *Request) { r.Mode = store.ModeSync })
		if ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: ref.ID, StructureID: a.structure.ID}); len(ms) != 0 {
			t.Errorf("the CLI's sync kept someone the file forgot")
		}
	})
}
