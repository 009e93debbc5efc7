package notify

import (
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/manage"
	"sesame/internal/store"
)

// TestEmailChangeNoticeSurvivesDisable: the former address of a used account
// must learn that its email changed, whatever the account's state when the
// notice's job runs. A referent (or anyone with the person page) who disables
// the account first, changes its email to an address they read, lets the
// job run, then enables it again, could otherwise reset the password from the
// new address ("forgotten password") without the owner ever being told: the
// takeover the notice exists to reveal.
func TestEmailChangeNoticeSurvivesDisable(t *testing.T) {
	e := newEnv(t)
	e.st.SetDisabledJobSinks(jobs.SinkLDAP, "provision", "oidc")
	f := e.structure("Le Bêta", "contact@lebeta.org")
	v := e.person(f, "Camille", "Dupont", "camille.dupont", "camille@example.org", "en")
	if _, err := e.st.UpdatePerson(e.ctx, v.ID, func(x *store.Person) error {
		x.State, x.PasswordHash = store.StateActive, "$argon2id$x"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	m := &manage.Manager{Store: e.st, Links: e.tokens}
	if _, err := m.Disable(e.ctx, "person:referent", v.ID); err != nil {
		t.Fatal(err)
	}
	evil := "attacker@evil.example"
	if _, err := m.UpdatePerson(e.ctx, "person:referent", v.ID, manage.PersonChange{Email: &evil}); err != nil {
		t.Fatal(err)
	}
	e.drain() // the notice's job runs while the account is disabled
	if _, err := m.Enable(e.ctx, "person:referent", v.ID); err != nil {
		t.Fatal(err)
	}
	e.drain()
	told := false
	for _, s := range e.mp.Messages() {
		for _, to := range s.To {
			if to.Address == "camille@example.org" {
				told = true
			}
		}
	}
	if !told {
		t.Fatalf("the account's email was changed to %s and the account is active again, but the former address "+
			"camille@example.org was never told (%d messages sent)", evil, len(e.mp.Messages()))
	}
}
