package onboarding

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// A person stored under their personal address (an import that chose
// personal addresses) is found again by a later import that chooses the
// work addresses, through the row's other address. When that other cell
// has an error (here a zero-width space), the row is skipped, but it
// still names its person: a sync skipping invalid rows must not take them
// for someone who left the file (same rule as the chosen address cell,
// TestSyncSkipInvalidKeepsPeopleOfBadRows).
func TestSyncSkipInvalidKeepsPersonNamedByOtherAddress(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		res := a.importFile(t, "email;email personnel;nom;droits\nkeep@asso.fr;keep@perso.fr;Keep;nextcloud\nother@asso.fr;;Other;nextcloud\n",
			func(r *Request) { r.Address = AddressPersonal })
		if res.Status != StatusApplied {
			t.Fatalf("first import: %s", res.Report.JSON())
		}
		keep := person(t, st, "keep@perso.fr")
		res = a.importFile(t, "email;email personnel;nom;droits\nkeep@asso.fr;keep\u200b@perso.fr;Keep;nextcloud\nother@asso.fr;;Other;nextcloud\n",
			func(r *Request) { r.Mode, r.SkipInvalid = store.ModeSync, true })
		t.Logf("summary %+v", res.Report.Summary)
		if q := person(t, st, "keep@perso.fr"); q.State == store.StateDisabled {
			t.Errorf("keep@perso.fr, named by a row of the file (in error), was disabled by the sync")
		}
		if ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: keep.ID}); len(ms) != 1 {
			t.Errorf("keep@perso.fr was taken out of alpha: %+v", ms)
		}
		if g := grantsOf(t, st, keep.ID); len(g) != 1 {
			t.Errorf("keep@perso.fr lost their grants: %v", g)
		}
		if js, _ := st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindOIDCEndSessions}); len(js) != 0 {
			t.Errorf("sessions ended: %d jobs", len(js))
		}
	})
}

// A person invited by alpha (not activated yet) whom beta's import links
// and gives beta's services is told of them: the activation email they
// hold is alpha's and lists alpha's services only, and the access email
// has its own sentence for a person who has not activated yet. No second
// activation email is sent, and the same import again sends nothing.
func TestLinkedInvitedPersonIsToldOfTheNewStructure(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		a.importFile(t, "email;prénom;nom;droits\ninvited@example.org;Ina;Vited;nextcloud\n", nil)
		p := person(t, st, "invited@example.org")
		file := "email;droits\ninvited@example.org;nextcloud:admin\n"
		res := b.importFile(t, file, nil)
		if res.Status != StatusApplied || res.Report.Rows[0].Action != ActCreate {
			t.Fatalf("link: %s", res.Report.JSON())
		}
		if n := countJobs(t, st, jobs.KindMailActivate); n != 1 {
			t.Errorf("mail.activate jobs = %d, want alpha's only", n)
		}
		access, _ := st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindMailAccess})
		if len(access) != 1 {
			t.Fatalf("mail.access jobs = %d: beta's services are never emailed to the person it linked", len(access))
		}
		var am jobs.AccessMail
		if err := json.Unmarshal(access[0].Payload, &am); err != nil {
			t.Fatal(err)
		}
		if am.PersonID != p.ID || am.StructureID != b.structure.ID || len(am.ServiceIDs) != 1 || am.ServiceIDs[0] != b.services["nextcloud"].ID {
			t.Errorf("access mail = %+v", am)
		}
		before := allJobs(t, st)
		if res := b.importFile(t, file, nil); res.Report.Summary.Unchanged != 1 || allJobs(t, st) != before {
			t.Errorf("the same import again: %+v, %d new jobs", res.Report.Summary, allJobs(t, st)-before)
		}
	})
}

// The board's export is "re-importable as it is" (docs/operations.md): a
// member the referent disabled on the person page (they stay a member) is
// written with the state "désactivé"; importing the file back must not
// enable them again, with their password and sessions.
func TestExportReimportKeepsDisabledMemberDisabled(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		a.importFile(t, "email;prénom;nom;droits\ngone@example.org;Gone;Away;nextcloud\nstay@example.org;Stay;Here;nextcloud\n", nil)
		gone := person(t, st, "gone@example.org")
		// Gone activated, then left: the referent disabled the account on
		// the person page (manage.Disable keeps the membership).
		if _, err := st.UpdatePerson(ctx, gone.ID, func(x *store.Person) error {
			x.PasswordHash, x.State = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", store.StateDisabled
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, lang := range []string{"fr", "en"} {
			_, rows, err := ExportPeople(ctx, st, "alpha", c.Now())
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteExportCSV(&buf, rows, lang); err != nil {
				t.Fatal(err)
			}
			for _, mode := range []store.ImportMode{store.ModeAdd, store.ModeSync} {
				res := a.importFile(t, buf.String(), func(r *Request) { r.Mode = mode; r.DryRun = true })
				if s := res.Report.Summary; s.Unchanged != 2 || s.Update+s.Create+s.Disable+s.Error != 0 {
					t.Errorf("%s %s: the export re-imported is not a no-op: %s", lang, mode, res.Report.JSON())
				}
			}
			a.importFile(t, buf.String(), nil)
			if q := person(t, st, "gone@example.org"); q.State != store.StateDisabled {
				t.Fatalf("%s: re-importing the export enabled the disabled member again: %s", lang, q.State)
			}
		}
	})
}
