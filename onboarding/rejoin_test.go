package onboarding

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

const usedHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

// activate makes the account of email used: active, with a password.
func activate(t *testing.T, st store.Store, email string) store.Person {
	t.Helper()
	p, err := st.UpdatePerson(context.Background(), person(t, st, email).ID, func(x *store.Person) error {
		x.State, x.PasswordHash = store.StateActive, usedHash
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// hasMsg reports whether one of issues reads as the message id does.
func hasMsg(issues []ReportIssue, id MsgID) bool {
	want := msg(id).Text("fr")
	for _, i := range issues {
		if i.Message == want {
			return true
		}
	}
	return false
}

// accessMails counts the access emails queued for a person.
func accessMails(t *testing.T, st store.Store, personID string) int {
	t.Helper()
	js, err := st.ListJobs(context.Background(), store.JobFilter{Kind: jobs.KindMailAccess, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, j := range js {
		var am jobs.AccessMail
		if json.Unmarshal(j.Payload, &am) == nil && am.PersonID == personID {
			n++
		}
	}
	return n
}

// A referent's sync run with an incomplete file takes their members out
// (disabled, no structure); re-importing the full list links them again:
// the structure's own former members, named, with a warning that says so,
// enabled with their password, and no activation email, as the hoster's
// link does (an access email, as for every link). Another structure's
// referent is still refused them.
func TestReferentReaddsFormerMembers(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		full := "email;prénom;nom;droits\nused@example.org;Olga;Used;nextcloud\nother@example.org;Otto;Other;nextcloud\n" +
			"unused@example.org;Ivan;Unused;nextcloud\nkept@example.org;Kim;Kept;nextcloud\n"
		a.importFile(t, full, nil)
		used, other := activate(t, st, "used@example.org"), activate(t, st, "other@example.org")
		activate(t, st, "kept@example.org")
		unused := person(t, st, "unused@example.org")
		a.importFile(t, "email\nkept@example.org\n", func(r *Request) { r.Mode = store.ModeSync })
		for _, p := range []store.Person{used, other, unused} {
			if got := person(t, st, p.Email); got.State != store.StateDisabled {
				t.Fatalf("%s after the sync: %s", p.Email, got.State)
			}
		}
		activations := countJobs(t, st, jobs.KindMailActivate)

		// Beta's referent: every one of them is alpha's former member.
		res := b.importFile(t, full, func(r *Request) { r.DryRun = true })
		for _, row := range res.Report.Rows[:3] {
			if row.Action != ActError || !hasMsg(row.Errors, MsgUnattached) || row.Username != "" {
				t.Errorf("beta's referent, alpha's former member: %+v", row)
			}
		}

		// Alpha's referent: the preview says it re-adds them, and names them.
		res = a.importFile(t, full, func(r *Request) { r.DryRun = true })
		for i, p := range []store.Person{used, other, unused} {
			row := res.Report.Rows[i]
			if row.Action != ActCreate || row.Username != p.Username || !hasMsg(row.Warnings, MsgRejoins) || hasMsg(row.Warnings, MsgLinked) {
				t.Errorf("alpha's preview of %s: %+v", p.Email, row)
			}
		}
		if en := msg(MsgRejoins).Text("en"); !strings.Contains(en, "was a member of the organisation") {
			t.Errorf("English: %s", en)
		}

		// Alpha's referent re-adds used@ and unused@; the hoster, other@.
		res = a.importFile(t, "email;droits\nused@example.org;nextcloud\nunused@example.org;nextcloud\n", nil)
		if s := res.Report.Summary; s.Create != 2 || s.Error != 0 {
			t.Fatalf("alpha's re-import: %+v", res.Report.Rows)
		}
		res = a.importFile(t, "email;droits\nother@example.org;nextcloud\n", func(r *Request) { r.Hoster = true })
		if row := res.Report.Rows[0]; row.Action != ActCreate || !hasMsg(row.Warnings, MsgRejoins) {
			t.Fatalf("the hoster's re-import: %+v", row)
		}
		for _, p := range []store.Person{used, other} {
			got := person(t, st, p.Email)
			if got.State != store.StateActive || got.PasswordHash != usedHash {
				t.Errorf("%s re-added: %s, password %q", p.Email, got.State, got.PasswordHash)
			}
			if ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID}); len(ms) != 1 || ms[0].StructureID != a.structure.ID {
				t.Errorf("%s's memberships: %+v", p.Email, ms)
			}
			if g := grantsOf(t, st, p.ID); g[a.services["nextcloud"].ID] != "user" {
				t.Errorf("%s's grants: %v", p.Email, g)
			}
			// The referent's link does what the hoster's does: one access
			// email, no activation email.
			if n := accessMails(t, st, p.ID); n != 1 {
				t.Errorf("%s: %d access emails", p.Email, n)
			}
		}
		if got := person(t, st, unused.Email); got.State != store.StateInvited {
			t.Errorf("the invited former member re-added: %s", got.State)
		}
		if n := countJobs(t, st, jobs.KindMailActivate); n != activations {
			t.Errorf("activation emails %d -> %d", activations, n)
		}
		if es, _ := st.ListAudit(ctx, store.AuditFilter{Action: "person.link", Target: "person:" + used.ID}); len(es) != 1 ||
			fmt.Sprint(es[0].Details["structure"]) != "alpha" {
			t.Errorf("audit of the link: %+v", es)
		}
		if fs, _ := st.ListFormerMemberships(ctx, ""); len(fs) != 0 {
			t.Errorf("former memberships left: %+v", fs)
		}
	})
}

// Once another structure has taken alpha's former member (beta's hoster
// linked them), alpha's claim is gone: while beta has them, alpha's
// referent links them as a person another structure shares (not named,
// their account not alpha's to enable); once beta's sync has taken them
// out again, they are beta's former member, refused to alpha's referent.
// A person two structures had and both left is the former member of the
// last one only (the one that held them alone).
func TestFormerMemberTakenElsewhere(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		a.importFile(t, "email\nused@example.org\nboth@example.org\nkept@example.org\n", nil)
		used, both := activate(t, st, "used@example.org"), activate(t, st, "both@example.org")
		b.importFile(t, "email\nboth@example.org\n", nil)
		a.importFile(t, "email\nkept@example.org\n", func(r *Request) { r.Mode = store.ModeSync })
		if got := person(t, st, both.Email); got.State != store.StateActive {
			t.Fatalf("both@ left alpha for beta: %s", got.State)
		}

		b.importFile(t, "email\nused@example.org\n", func(r *Request) { r.Hoster = true })
		res := a.importFile(t, "email\nused@example.org\n", func(r *Request) { r.DryRun = true })
		if row := res.Report.Rows[0]; row.Action != ActCreate || row.Username != "" || hasMsg(row.Warnings, MsgRejoins) || !hasMsg(row.Warnings, MsgLinked) {
			t.Errorf("alpha's former member, now beta's: %+v", row)
		}

		b.importFile(t, "email\nother@example.org\n", func(r *Request) { r.Mode = store.ModeSync })
		for _, p := range []store.Person{used, both} {
			if got := person(t, st, p.Email); got.State != store.StateDisabled {
				t.Fatalf("%s after beta's sync: %s", p.Email, got.State)
			}
		}
		res = a.importFile(t, "email\nused@example.org\nboth@example.org\n", func(r *Request) { r.SkipInvalid = true })
		for _, row := range res.Report.Rows {
			if row.Action != ActError || !hasMsg(row.Errors, MsgUnattached) {
				t.Errorf("beta's former member, to alpha's referent: %+v", row)
			}
		}
		for _, p := range []store.Person{used, both} {
			if got := person(t, st, p.Email); got.State != store.StateDisabled {
				t.Errorf("%s enabled by alpha: %s", p.Email, got.State)
			}
		}
		res = b.importFile(t, "email\nused@example.org\nboth@example.org\n", func(r *Request) { r.DryRun = true })
		for _, row := range res.Report.Rows {
			if row.Action != ActCreate || !hasMsg(row.Warnings, MsgRejoins) {
				t.Errorf("beta's former member, to beta's referent: %+v", row)
			}
		}
	})
}

// A hoster admin is never a structure's to manage: a sync that takes one
// out of their last structure, or a person made a hoster admin after
// leaving it, leaves no former membership. Once no longer an admin, the
// account (used, with its password) belongs to no structure, and the
// structure's referent is refused it as any unattached account, not
// handed it as its own former member.
func TestFormerHosterAdminIsNoFormerMember(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		a.importFile(t, "email\nboss@example.org\nlater@example.org\nkept@example.org\n", nil)
		boss, later := activate(t, st, "boss@example.org"), activate(t, st, "later@example.org")
		admin := func(p store.Person, on bool) {
			t.Helper()
			if _, err := st.UpdatePerson(ctx, p.ID, func(x *store.Person) error { x.Admin = on; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		admin(boss, true)
		a.importFile(t, "email\nkept@example.org\n", func(r *Request) { r.Mode = store.ModeSync })
		admin(boss, false)  // an admin when alpha's sync took them out
		admin(later, true)  // made an admin after leaving alpha
		admin(later, false) // and no longer
		res := a.importFile(t, "email\nboss@example.org\nlater@example.org\n", func(r *Request) { r.DryRun = true })
		for _, row := range res.Report.Rows {
			if row.Action != ActError || !hasMsg(row.Errors, MsgUnattached) || row.Username != "" {
				t.Errorf("alpha's referent, a former hoster admin: %+v", row)
			}
		}
		if fs, _ := st.ListFormerMemberships(ctx, ""); len(fs) != 0 {
			t.Errorf("former memberships: %+v", fs)
		}
	})
}
