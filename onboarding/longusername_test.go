package onboarding

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"sesame/internal/store"
)

// An account made while usernames could be 64 characters long (before
// MaxUsernameLen became 60) is still a member: the board's export, which
// writes its username, goes back in as a no-op. The username cell names
// the account's own username, which cannot change; it must not make the
// row an error (a sync refusing the whole file, or skipping the member).
func TestExportReimportKeepsLongExistingUsername(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		long := strings.Repeat("a", 30) + "." + strings.Repeat("b", 31) // 62 characters
		p := &store.Person{Username: long, Email: "long@example.org", GivenName: "Long", FamilyName: "Name", DisplayName: "Long Name",
			Language: "fr", State: store.StateActive, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"}
		if err := st.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := st.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: a.structure.ID, CreatedAt: c.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := st.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: a.services["nextcloud"].ID, Role: "user", CreatedAt: c.Now()}); err != nil {
			t.Fatal(err)
		}
		_, rows, err := ExportPeople(ctx, st, "alpha", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteExportCSV(&buf, rows, "fr"); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []store.ImportMode{store.ModeAdd, store.ModeSync} {
			res := a.importFile(t, buf.String(), func(r *Request) { r.Mode = mode; r.DryRun = true })
			if s := res.Report.Summary; s.Unchanged != 1 || s.Error != 0 {
				t.Errorf("%s: the export of a member with a 62-character username is refused back: %s", mode, res.Report.JSON())
			}
		}
	})
}

// A new account still gets at most MaxUsernameLen characters.
func TestNewLongUsernameRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		a := newFixture(t, st, c, "alpha")
		long := strings.Repeat("a", 30) + "." + strings.Repeat("b", 31)
		res := a.importFile(t, "email;nom;identifiant;droits\nnew@example.org;New;"+long+";nextcloud\n", func(r *Request) { r.DryRun = true })
		if res.Report.Summary.Error != 1 {
			t.Errorf("a new account with a 62-character username is accepted: %s", res.Report.JSON())
		}
	})
}
