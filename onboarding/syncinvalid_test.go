package onboarding

import (
	"context"
	"strings"
	"testing"

	"sesame/internal/store"
)

// A referent of structure beta may not manage a hoster admin nor a person
// shared with another structure (web.Authorize); nor does an import into
// beta that names a disabled hoster admin enable their account again: the
// row warns instead.
func TestImportKeepsDisabledAdminDisabled(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		a.importFile(t, "email;nom\nroot@example.org;Root\n", nil)
		p := person(t, st, "root@example.org")
		// A hoster admin with a password, then disabled by another admin.
		if _, err := st.UpdatePerson(ctx, p.ID, func(x *store.Person) error {
			x.Admin, x.PasswordHash, x.State = true, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", store.StateDisabled
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		res := b.importFile(t, "email;nom\nroot@example.org;Root\n", nil)
		if res.Status != StatusApplied {
			t.Fatalf("status %s", res.Status)
		}
		t.Logf("%s", res.Report.JSON())
		if q := person(t, st, "root@example.org"); q.State != store.StateDisabled {
			t.Errorf("beta's import turned disabled hoster admin %s into %s (admin=%v)", q.Username, q.State, q.Admin)
		}
		if !strings.Contains(string(res.Report.JSON()), "ne le réactive pas") {
			t.Errorf("no %s warning in the report: %s", MsgStaysDisabled, res.Report.JSON())
		}
	})
}

// A sync that skips invalid rows keeps the people those rows name: a row
// whose email cell has an error (here a zero-width space) still designates
// keep@example.org, who must not be taken for someone who left.
func TestSyncSkipInvalidKeepsPeopleOfBadRows(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		a := newFixture(t, st, c, "alpha")
		a.importFile(t, "email;nom;droits\nkeep@example.org;Keep;nextcloud\nother@example.org;Other;nextcloud\n", nil)
		res := a.importFile(t, "email;nom;droits\nkeep\u200b@example.org;Keep;nextcloud\nother@example.org;Other;nextcloud\n",
			func(r *Request) { r.Mode = store.ModeSync; r.SkipInvalid = true })
		t.Logf("summary %+v", res.Report.Summary)
		if q := person(t, st, "keep@example.org"); q.State == store.StateDisabled {
			t.Errorf("keep@example.org, present in the file (row in error), was disabled by the sync")
		}
	})
}
