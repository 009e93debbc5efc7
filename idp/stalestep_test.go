package idp

import (
	"context"
	"html"
	"net/url"
	"strings"
	"testing"

	"sesame/internal/store"
)

// TestStaleEnrolStepAsksForTheFactor: a step sealed while the person had
// no factor (an enrolment, "later" allowed) asks for the factor once they
// have enrolled one: "later" no longer ends the login with a password
// alone.
func TestStaleEnrolStepAsksForTheFactor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A referent: the default policy requires a second factor, with grace.
	if err := f.st.PutMembership(ctx, store.Membership{PersonID: f.alice.ID, StructureID: f.structure.ID, Referent: true}); err != nil {
		t.Fatal(err)
	}
	c := f.rp(f.gen, secretGen, genRedirect)
	attacker := f.browser() // knows the password only
	res, state, verifier := c.startLogin(attacker, "alice.martin")
	if !res.isEnrolment() || !strings.Contains(res.body, `value="later"`) {
		t.Fatalf("enrolment page with later: %d %.300s", res.status, res.body)
	}
	// Meanwhile Alice enrols her phone (portal, or her own login).
	f.enrolTOTP(f.alice)
	if fs, _ := f.st.ListSecondFactors(ctx, f.alice.ID); len(fs) != 1 {
		t.Fatalf("factors: %d", len(fs))
	}
	// A fresh login now asks for her code...
	if res, _, _ := c.startLogin(f.browser(), "alice.martin"); !res.isSecondStep() {
		t.Fatalf("fresh login: %d", res.status)
	}
	// ...and so does the old step: "later" no longer puts it off; the
	// page asks for the code.
	res = attacker.post(f.issuer+"/second-factor", url.Values{"action": {"later"}})
	if res.location != nil && res.location.Query().Get("code") != "" {
		claims := c.finishFlow(res, state, verifier)
		t.Fatalf("a person with a second factor got a code with a password alone (amr %v)", amrOfClaims(t, claims))
	}
	if !res.isSecondStep() || strings.Contains(res.body, `value="later"`) {
		t.Fatalf("the stale step after enrolment: %d, not the code's page\n%.500s", res.status, res.body)
	}
	_ = verifier
}

// TestSwitchAccountKeepsACR: the no-access page's "another account" link
// makes the request again with its acr_values: a client that asked for two
// factors does not get a code for a password-only login through it.
func TestSwitchAccountKeepsACR(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	verifier, challenge := pkce()
	v := authParams(f.gen.ClientID, genRedirect, "code_challenge", challenge, "code_challenge_method", "S256",
		"acr_values", ACRTwoFactor)
	// Directly, alice (no factor) would have to enrol one first.
	if res := f.browser().login(f.browser().get(f.authURL(v)), "alice.martin", testPassword); res.location != nil &&
		res.location.Query().Get("code") != "" {
		t.Fatal("setup: a code without two factors")
	}
	f.enrolTOTP(f.bob)
	res := b.login(b.get(f.authURL(v)), "bob.durand", testPassword) // no grant on gen
	res = b.second(f.codeAt(totpSecret, 0))
	m := switchLink.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no switch link: %d", res.status)
	}
	t.Logf("switch link: %s", m[1])
	form := b.get(f.issuer + htmlUnescape(m[1]))
	res = b.login(form, "alice.martin", testPassword)
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Logf("no code (good): %d", res.status)
		return
	}
	st, body := f.exchange(f.gen, secretGen, res.location.Query().Get("code"), genRedirect, verifier)
	t.Fatalf("client asked acr %s; after the switch it got %d, acr %v", ACRTwoFactor, st, idClaims(t, body)["acr"])
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }

// TestStaleEnrolStepAddsNoFactor: an enrolment step sealed before Alice
// enrolled a factor cannot add a second one (an attacker's, proved by the
// password alone) next to it.
func TestStaleEnrolStepAddsNoFactor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.st.PutMembership(ctx, store.Membership{PersonID: f.alice.ID, StructureID: f.structure.ID, Referent: true}); err != nil {
		t.Fatal(err)
	}
	c := f.rp(f.gen, secretGen, genRedirect)
	attacker := f.browser()
	res, _, _ := c.startLogin(attacker, "alice.martin")
	if !res.isEnrolment() {
		t.Fatalf("enrolment page: %d", res.status)
	}
	f.enrolTOTP(f.alice) // Alice secures her account
	done, _ := attacker.enrol(res)
	fs, _ := f.st.ListSecondFactors(ctx, f.alice.ID)
	if len(fs) > 1 {
		t.Fatalf("after Alice enrolled, the stale step added the attacker's factor: %d factors (page %d)", len(fs), done.status)
	}
}
