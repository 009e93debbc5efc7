package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/onboarding"
	"sesame/web"
)

// linkTokens is the key newAdminEnv gives its Tokens.
var linkTokens = &onboarding.Tokens{Key: []byte("0123456789abcdef0123456789abcdef-test-key")}

// lastLink returns the secret of the newest emailed link of kind for p.
func (e *adminEnv) lastLink(p store.Person, kind string) string {
	e.t.Helper()
	js, err := e.st.ListJobs(context.Background(), store.JobFilter{Kind: kind})
	e.must(err)
	secret := ""
	for _, j := range js {
		var tm jobs.TokenMail
		if json.Unmarshal(j.Payload, &tm) == nil && tm.PersonID == p.ID {
			secret = linkTokens.Secret(tm.Nonce)
		}
	}
	if secret == "" {
		e.t.Fatalf("no %s job for %s", kind, p.Username)
	}
	return secret
}

// importCSV uploads csv to slug's import as person and confirms it.
func (e *adminEnv) importCSV(slug string, as *store.Person, csv string) {
	e.t.Helper()
	loc := "/admin/structures/" + slug + "/import/" + e.uploadCSV(slug, as, csv)
	status, _, b := e.do("POST", loc+"/confirm", as, url.Values{"skip_invalid": {"1"}})
	if status != http.StatusOK {
		e.t.Fatalf("confirm: %d %s", status, b)
	}
}

// An invitation went to a wrong (typo'd or former) address; the referent
// corrects the email. The link already in the wrong mailbox stops working,
// and a new one goes to the new address.
func TestEmailChangeRevokesLinks(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, a := e.referentOf("a")
	victim := e.person("victim", store.StateInvited, false)
	e.member(victim, a, false)
	if status, _, _ := e.do("POST", "/admin/structures/a/people/"+victim.ID+"/resend", &ref, url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("resend: %d", status)
	}
	oldLink := e.lastLink(victim, jobs.KindMailActivate) // in the old mailbox
	status, _, _ := e.do("POST", "/admin/structures/a/people/"+victim.ID, &ref, url.Values{
		"given_name": {"victim"}, "email": {"right-address@example.org"}})
	if status != http.StatusSeeOther {
		t.Fatalf("email change: %d", status)
	}
	status, _, _ = e.do("POST", "/activate/"+oldLink, nil, url.Values{
		"password": {"Correct horse battery staple 42"}, "confirm": {"Correct horse battery staple 42"}})
	p, _ := e.st.GetPerson(context.Background(), victim.ID)
	if status == http.StatusOK || p.State == store.StateActive {
		t.Errorf("the link sent to the former address still activated the account after the email change (status %d, state %s)", status, p.State)
	}
	if newLink := e.lastLink(victim, jobs.KindMailActivate); newLink == oldLink {
		t.Error("no new activation link was sent to the new address")
	} else if status, _, _ := e.do("GET", "/activate/"+newLink, nil, nil); status != http.StatusOK {
		t.Errorf("the new link: %d", status)
	}
}

// A link issued before a person was disabled does not work again once they
// are enabled, nor a reset link after a password change in the portal.
func TestLinksRevokedByDisableAndPasswordChange(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, a := e.referentOf("a")
	m := e.person("m", store.StateActive, false)
	e.member(m, a, false)
	if status, _, _ := e.do("POST", "/forgot", nil, url.Values{"identifier": {m.Email}}); status != http.StatusOK {
		t.Fatalf("forgot: %d", status)
	}
	link := e.lastLink(m, jobs.KindMailReset)
	e.do("POST", "/admin/structures/a/people/"+m.ID+"/disable", &ref, url.Values{"confirm": {m.ID}})
	e.do("POST", "/admin/structures/a/people/"+m.ID+"/enable", &ref, url.Values{})
	if status, _, _ := e.do("GET", "/reset/"+link, nil, nil); status == http.StatusOK {
		t.Errorf("a reset link issued before the person was disabled opens again after enabling")
	}
	// The person changes their password in the portal (e.g. after noticing
	// a compromise): a reset link pending until then stops working.
	if status, _, _ := e.do("POST", "/forgot", nil, url.Values{"identifier": {m.Email}}); status != http.StatusOK {
		t.Fatalf("forgot: %d", status)
	}
	link = e.lastLink(m, jobs.KindMailReset)
	if status, _, _ := e.do("GET", "/reset/"+link, nil, nil); status != http.StatusOK {
		t.Fatalf("a fresh reset link: %d", status)
	}
	status, _, _ := e.do("POST", "/account/password", &m, url.Values{"current": {"pw of m"},
		"password": {"Another long passphrase 77"}, "confirm": {"Another long passphrase 77"}})
	if status != http.StatusSeeOther {
		t.Fatalf("password change: %d", status)
	}
	if status, _, _ := e.do("GET", "/reset/"+link, nil, nil); status == http.StatusOK {
		t.Errorf("a reset link issued before a password change still opens")
	}
}

// A referent may not enable a disabled hoster admin or a person of another
// structure from the person page (403/404), nor by importing their email
// into the referent's own structure.
func TestImportDoesNotEnableWhatEnableRefuses(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref := e.person("ref", store.StateActive, false)
	a, b := e.structure("a"), e.structure("b")
	e.member(ref, a, true)
	boss := e.person("boss", store.StateActive, true) // a hoster admin
	e.member(boss, a, false)
	other := e.person("other", store.StateActive, false) // B's member
	e.member(other, b, false)
	ctx := context.Background()
	for _, p := range []store.Person{boss, other} {
		_, err := e.st.UpdatePerson(ctx, p.ID, func(x *store.Person) error { x.State = store.StateDisabled; return nil })
		e.must(err)
	}
	if status, _, _ := e.do("POST", "/admin/structures/a/people/"+boss.ID+"/enable", &ref, url.Values{}); status != http.StatusForbidden {
		t.Fatalf("referent enables the hoster admin: %d, want 403", status)
	}
	if status, _, _ := e.do("POST", "/admin/structures/a/people/"+other.ID+"/enable", &ref, url.Values{}); status != http.StatusNotFound {
		t.Fatalf("referent enables B's member: %d, want 404", status)
	}
	e.importCSV("a", &ref, "email;prénom;nom\n"+boss.Email+";boss;x\n"+other.Email+";other;x\n")
	for _, p := range []store.Person{boss, other} {
		got, _ := e.st.GetPerson(ctx, p.ID)
		if got.State != store.StateDisabled {
			t.Errorf("%s (disabled, not the referent's to enable) is %s after the referent's import", p.Username, got.State)
		}
	}
}

// The portal lets a person with a second factor remove it only from a
// two-factor session, and change their password only with the current
// one. The administration's person page refuses a referent (or hoster
// admin) those changes on their own account, so its forms cannot bypass
// the portal's checks.
func TestNoSelfManagementThroughAdmin(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, a := e.referentOf("a")
	ctx := context.Background()
	f, err := testMFASecrets(t).NewTOTPFactor(ref.ID, "phone", "JBSWY3DPEHPK3PXP", 0, time.Now())
	e.must(err)
	e.must(e.st.CreateSecondFactor(ctx, &f))
	e.sessions.passwordOnly = true // e.g. a stolen session opened before the factor was enrolled

	// The portal refuses: prove both factors again.
	status, loc, _ := e.do("POST", "/account/second-factor/remove", &ref, url.Values{"id": {f.ID}})
	if status != http.StatusSeeOther || !strings.Contains(loc, "prompt=login") {
		t.Fatalf("portal removal from a password-only session: %d %q", status, loc)
	}
	// The admin page does it, on the actor's own account.
	status, _, _ = e.do("POST", "/admin/structures/a/people/"+ref.ID+"/mfa-reset", &ref, url.Values{})
	fs, _ := e.st.ListSecondFactors(ctx, ref.ID)
	if len(fs) == 0 {
		t.Errorf("a password-only session removed its person's second factor through /admin (status %d)", status)
	}
	// And moves the account's email (then "forgot password" hands over the
	// account) without the current password.
	status, _, _ = e.do("POST", "/admin/structures/a/people/"+ref.ID, &ref, url.Values{
		"given_name": {"ref"}, "email": {"attacker@evil.example"}})
	p, _ := e.st.GetPerson(ctx, ref.ID)
	if p.Email == "attacker@evil.example" {
		t.Errorf("a session changed its own account's email through /admin without re-authentication (status %d)", status)
	}
	if status != http.StatusForbidden {
		t.Errorf("email change on one's own account through /admin: %d, want 403", status)
	}
	// The person page says where one's own account is changed, instead of
	// the forms.
	status, _, body := e.do("GET", "/admin/structures/a/people/"+ref.ID, &ref, nil)
	if status != http.StatusOK || !strings.Contains(body, "C’est votre propre compte") || strings.Contains(body, "/mfa-reset") {
		t.Errorf("own person page: %d, without the explanation or with the forms:\n%s", status, body)
	}
	// Another referent of the structure still manages them.
	ref2 := e.person("ref2", store.StateActive, false)
	e.member(ref2, a, true)
	if status, _, _ := e.do("POST", "/admin/structures/a/people/"+ref.ID+"/mfa-reset", &ref2, url.Values{}); status != http.StatusSeeOther {
		t.Errorf("another referent resets the factors: %d", status)
	}
}

// A referent who changes an active member's email has the former address
// told (mail.email-changed); an invited person's former address, perhaps a
// typo, is told nothing (their new link goes to the new one).
func TestEmailChangeTellsTheFormerAddress(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, a := e.referentOf("a")
	active := e.person("active", store.StateActive, false)
	e.member(active, a, false)
	invited := e.person("invited", store.StateInvited, false)
	e.member(invited, a, false)
	for _, p := range []store.Person{active, invited} {
		if status, _, _ := e.do("POST", "/admin/structures/a/people/"+p.ID, &ref, url.Values{
			"given_name": {p.GivenName}, "email": {p.Username + ".new@example.org"}}); status != http.StatusSeeOther {
			t.Fatalf("email change: %d", status)
		}
	}
	js, err := e.st.ListJobs(context.Background(), store.JobFilter{Kind: jobs.KindMailEmailChanged})
	e.must(err)
	if len(js) != 1 {
		t.Fatalf("%d email-changed notices, want 1 (the active member's)", len(js))
	}
	var c jobs.EmailChange
	e.must(json.Unmarshal(js[0].Payload, &c))
	if c.PersonID != active.ID || c.Former != "active@example.org" {
		t.Errorf("notice %+v, want to the active member's former address", c)
	}
}

// A session left open (a shared computer) gives no more guesses of the
// password than the login page: each wrong current password on the
// portal's form spends the account's login bucket, and once it is empty
// the form is refused, the right password too, with Retry-After. The
// bucket is the one the provider's failed logins spend.
func TestPortalPasswordFormSpendsTheLoginLimit(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	p := e.person("jean.dupont", store.StateActive, false)
	change := func(current string) int {
		status, _, _ := e.do("POST", "/account/password", &p, url.Values{"current": {current},
			"password": {"a brand new long passphrase 42"}, "confirm": {"a brand new long passphrase 42"}})
		return status
	}
	for i := range 10 {
		if status := change(fmt.Sprintf("guess %d", i)); status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong current password %d: %d, want 422", i+1, status)
		}
	}
	before, _ := e.st.GetPerson(ctx, p.ID)
	status, _, body := e.do("POST", "/account/password", &p, url.Values{"current": {"pw of jean.dupont"},
		"password": {"a brand new long passphrase 42"}, "confirm": {"a brand new long passphrase 42"}})
	after, _ := e.st.GetPerson(ctx, p.ID)
	if status != http.StatusTooManyRequests || after.PasswordHash != before.PasswordHash {
		t.Fatalf("the right password after ten wrong ones: %d, changed %v", status, after.PasswordHash != before.PasswordHash)
	}
	if !strings.Contains(body, "Trop de tentatives") {
		t.Errorf("the refusal does not say why:\n%s", body)
	}
	if ok, _ := e.logins.Check(web.AccountLimitKey(p.ID)); ok {
		t.Error("the login page's bucket for the account is not the one spent")
	}
}
