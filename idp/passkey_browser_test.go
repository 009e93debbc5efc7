package idp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"sesame/internal/mfa"
	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/internal/testenv"
	"sesame/onboarding"
	"sesame/web"
)

// onLocalhost names the fixture's server localhost rather than
// 127.0.0.1 (browsers refuse passkeys for an IP address) and turns
// passkeys on.
func onLocalhost(c *Config) {
	c.Issuer = strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1)
	var err error
	if c.Passkeys, err = mfa.NewPasskeys(c.Issuer, "sesame", c.MasterKey); err != nil {
		panic(err)
	}
}

// withPortal mounts the portal (with passkeys), the account pages and the
// static files beside the provider.
func (f *fixture) withPortal(t *testing.T) {
	t.Helper()
	mux := f.srv.Config.Handler.(*http.ServeMux)
	secrets, err := mfa.NewSecrets(f.cfg.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	portal := &web.Portal{Store: f.st, Renderer: f.p.rd, Sessions: f.p, Hasher: f.hasher, Policy: password.DefaultPolicy(),
		PublicURL: f.issuer, Now: f.clock.Now, Logger: f.cfg.Logger, MFA: secrets, Passkeys: f.cfg.Passkeys}
	portal.Mount(mux)
	tokens := &onboarding.Tokens{Key: []byte("0123456789abcdef0123456789abcdef-test-key"), Now: f.clock.Now}
	(&web.Account{Store: f.st, Tokens: tokens, Hasher: f.hasher, Policy: password.DefaultPolicy(), Renderer: f.p.rd,
		Sessions: f.p, PublicURL: f.issuer, Now: f.clock.Now, Logger: f.cfg.Logger, Home: portal.Home()}).Mount(mux)
	web.StaticHandler{}.Mount(mux)
}

// recordAnswers makes the page keep, in localStorage, the last passkey
// answer and ceremony its forms post (to replay them from Go).
const recordAnswers = `(() => {
	const submit = HTMLFormElement.prototype.submit;
	HTMLFormElement.prototype.submit = function () {
		if (this.elements.answer) {
			localStorage.setItem("answer", this.elements.answer.value);
			localStorage.setItem("ceremony", this.elements.ceremony.value);
		}
		return submit.call(this);
	};
	return true;
})()`

// TestBrowserPasskey: in Debian's Chromium with a DevTools virtual
// authenticator, Alice creates a passkey from the portal (her first
// factor: ten recovery codes shown), logs in to a client with her password
// and the passkey as second step, then with the passkey alone (it verifies
// her: two factors), and removes it. The pages have no accessibility
// violation. An answer replayed, checked for another origin, or signed by
// a clone of the key (its counter behind) is refused. A referent is walked through creating one at sign-in, and the
// app's code is asked where one is enrolled.
func TestBrowserPasskey(t *testing.T) {
	axe := testenv.AxeCore(t)
	f := newFixture(t, sharedKeys(t), onLocalhost)
	f.withPortal(t)
	ctx := context.Background()
	bctx := testenv.Chromium(t, 300*time.Second)
	var authenticator cdpwebauthn.AuthenticatorID
	if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, tg, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
			Options: &cdpwebauthn.VirtualAuthenticatorOptions{Protocol: "ctap2", Ctap2version: "ctap2_1", Transport: "internal",
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
		authenticator = res.AuthenticatorID
		return err
	})); err != nil {
		t.Fatalf("virtual authenticator: %v", err)
	}
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		start := time.Now()
		defer func() { t.Logf("%s: %s", step, time.Since(start).Round(time.Millisecond)) }()
		if err := chromedp.Do(bctx, actions...); err != nil {
			loc, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("%s: %v\n%s", step, err, loc)
		}
	}

	// The client: a real relying party on loopback, showing the claims.
	rpMux, client := f.browserClient(t, "passkey-app", "Appli")
	verifier := oauth2.GenerateVerifier()
	rpMux.HandleFunc("/cb", func(w http.ResponseWriter, r *http.Request) {
		tok, err := client.conf.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		idt, err := client.verifier.Verify(r.Context(), tok.Extra("id_token").(string))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		var c struct {
			AMR []string `json:"amr"`
			ACR string   `json:"acr"`
		}
		_ = idt.Claims(&c)
		fmt.Fprintf(w, "<html><body><p id=claims>%s %s</p></body></html>", strings.Join(c.AMR, ","), c.ACR)
	})
	authURL := client.conf.AuthCodeURL("pk-state", oauth2.S256ChallengeOption(verifier))
	claims := func() string {
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("claims")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signOut := func() {
		run("sign out", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
			return err
		}))
	}

	// Sign in, add a passkey from the portal.
	run("sign in", chromedp.Navigate(f.issuer+"/signin?next=%2F"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "alice.martin"), chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(`a[href="/account/passkey"]`))
	run("passkey page", chromedp.Navigate(f.issuer+"/account/passkey"), chromedp.WaitVisible(`form.passkey button`))
	checkPage(t, bctx, axe, "passkey", "fr", "")
	run("create", chromedp.SendKeys(chromedp.ID("passkey-name"), "Ordinateur"), chromedp.Click(`form.passkey button`),
		chromedp.WaitVisible(`ul.codes`))
	checkPage(t, bctx, axe, "passkey-codes", "fr", "")
	factors, err := f.st.ListSecondFactors(ctx, f.alice.ID)
	if err != nil || len(factors) != 1 || factors[0].Kind != store.FactorPasskey || factors[0].Name != "Ordinateur" {
		t.Fatalf("factors %+v %v", factors, err)
	}

	// Password, then the passkey as second step.
	signOut()
	run("login", chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("username"), "alice.martin"), chromedp.SendKeys(chromedp.ID("password"), testPassword),
		// The login page has a passkey button too: wait for the second
		// step's own field (a recovery code), or axe may start on the
		// login page as it navigates away.
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("code")), chromedp.WaitVisible(`form.passkey button`))
	checkPage(t, bctx, axe, "second-step-passkey", "fr", "Le Bêta")
	run("second step", chromedp.Click(`form.passkey button`), chromedp.WaitVisible(chromedp.ID("claims")))
	if got := claims(); got != "pwd,hwk,user,mfa "+ACRTwoFactor {
		t.Errorf("password + passkey: %q", got)
	}

	// The passkey alone, from the login page.
	signOut()
	run("record", chromedp.Navigate(authURL), chromedp.WaitVisible(`form.passkey button`))
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](recordAnswers)); err != nil {
		t.Fatal(err)
	}
	run("passkey alone", chromedp.Click(`form.passkey button`), chromedp.WaitVisible(chromedp.ID("claims")))
	if got := claims(); got != "hwk,user,mfa "+ACRTwoFactor {
		t.Errorf("passkey alone: %q", got)
	}

	// That answer, posted again, is refused: its challenge was spent.
	run("back to sesame", chromedp.Navigate(f.issuer+"/forgot"), chromedp.WaitVisible("main"))
	answer, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`localStorage.getItem("answer") || ""`))
	ceremony, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`localStorage.getItem("ceremony") || ""`))
	if answer == "" || ceremony == "" {
		t.Fatal("no answer recorded")
	}
	b := f.browser()
	res := b.post(f.issuer+"/signin", url.Values{"action": {"passkey"}, "ceremony": {ceremony}, "answer": {answer}, "next": {"/"}})
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "pas été acceptée") {
		t.Errorf("replayed answer: %d %.300s", res.status, res.body)
	}
	// Checked by a sesame at another address, it is refused too: the
	// browser signed this origin.
	other, err := mfa.NewPasskeys("http://localhost:1", "sesame", f.cfg.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.FinishLogin(ctx, f.st, store.Person{}, ceremony, answer, f.clock.Now()); err == nil ||
		!strings.Contains(err.Error(), "passkey refused") {
		t.Errorf("another origin: %v", err)
	}

	// A clone of the key (the same private key, its signature counter
	// behind the one sesame last saw) is refused, and the counter sesame
	// keeps does not move; the real key still works afterwards.
	stored := func() int64 {
		fs, err := f.st.ListSecondFactors(ctx, f.alice.ID)
		if err != nil || len(fs) != 1 {
			t.Fatalf("factors %+v %v", fs, err)
		}
		return fs[0].Counter
	}
	before := stored()
	// WebAuthn.addCredential as this Chromium takes it: cdproto's
	// Credential always sends a CMTG field, which it refuses.
	type credential struct {
		CredentialID         []byte  `json:"credentialId"`
		IsResidentCredential bool    `json:"isResidentCredential"`
		RpID                 string  `json:"rpId"`
		PrivateKey           []byte  `json:"privateKey"`
		UserHandle           []byte  `json:"userHandle,omitempty"`
		SignCount            float64 `json:"signCount"`
	}
	type addCredential struct {
		AuthenticatorID cdpwebauthn.AuthenticatorID `json:"authenticatorId"`
		Credential      credential                  `json:"credential"`
	}
	add := cdp.Command[addCredential, cdp.Empty]{Method: cdpwebauthn.CommandAddCredential}
	var real credential
	swap := func(c credential) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, cdpwebauthn.ClearCredentials, cdpwebauthn.ClearCredentialsParams{AuthenticatorID: authenticator}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, add, addCredential{AuthenticatorID: authenticator, Credential: c})
			return err
		})
	}
	run("read the key", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		got, err := cdp.Call(ctx, tg, cdpwebauthn.GetCredentials, cdpwebauthn.GetCredentialsParams{AuthenticatorID: authenticator})
		if err != nil {
			return err
		}
		if len(got.Credentials) != 1 {
			return fmt.Errorf("%d credentials in the authenticator", len(got.Credentials))
		}
		c := got.Credentials[0]
		real = credential{CredentialID: c.CredentialID, IsResidentCredential: c.IsResidentCredential, RpID: c.RpID,
			PrivateKey: c.PrivateKey, UserHandle: c.UserHandle, SignCount: c.SignCount}
		return nil
	}))
	if before < 2 || int64(real.SignCount) != before {
		t.Fatalf("sesame keeps counter %d, the authenticator %v: no counter to go back on", before, real.SignCount)
	}
	clone := real
	clone.SignCount = 0
	signOut()
	run("clone", swap(clone), chromedp.Navigate(authURL), chromedp.WaitVisible(`form.passkey button`),
		chromedp.Click(`form.passkey button`), chromedp.WaitVisible(`[role=alert]`))
	if msg, _ := chromedp.Run(bctx, chromedp.Text(`[role=alert]`)); !strings.Contains(msg, "pas été acceptée") {
		t.Errorf("the clone's answer: %q", msg)
	}
	if after := stored(); after != before {
		t.Errorf("the clone moved the counter from %d to %d", before, after)
	}
	if got, err := f.st.ListAudit(ctx, store.AuditFilter{Action: "person.mfa.passkey-cloned"}); err != nil || len(got) != 1 ||
		got[0].PersonID != f.alice.ID || fmt.Sprint(got[0].Details["stored_counter"]) != fmt.Sprint(before) {
		t.Errorf("audit of the clone: %+v %v", got, err)
	}
	run("the real key again", swap(real), chromedp.Navigate(authURL), chromedp.WaitVisible(`form.passkey button`),
		chromedp.Click(`form.passkey button`), chromedp.WaitVisible(chromedp.ID("claims")))
	if after := stored(); after != before+1 {
		t.Errorf("counter after the real key: %d, want %d", after, before+1)
	}

	// Removed from the portal.
	signOut()
	run("sign in again", chromedp.Navigate(f.issuer+"/signin?next=%2F"), chromedp.WaitVisible(`form.passkey button`),
		chromedp.Click(`form.passkey button`), chromedp.WaitVisible(`form[action="/account/second-factor/remove"] button`))
	checkPage(t, bctx, axe, "portal-factors", "fr", "Le Bêta")
	run("remove", chromedp.Click(`form[action="/account/second-factor/remove"] button`), chromedp.WaitVisible(`p.success`))
	if factors, _ := f.st.ListSecondFactors(ctx, f.alice.ID); len(factors) != 0 {
		t.Errorf("factors left: %+v", factors)
	}

	// A referent (required by default) is walked through creating one at
	// their first sign-in, as the other way beside the app's QR code.
	if err := f.st.PutMembership(ctx, store.Membership{PersonID: f.bob.ID, StructureID: f.structure.ID, Referent: true}); err != nil {
		t.Fatal(err)
	}
	signOut()
	run("referent", chromedp.Navigate(f.issuer+"/signin?next=%2F"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "bob.durand"), chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(`form[data-passkey="create"] button`))
	checkPage(t, bctx, axe, "enrol-at-login", "fr", "")
	run("enrol a passkey", chromedp.SendKeys(chromedp.ID("passkey-name"), "Téléphone"), chromedp.Click(`form[data-passkey="create"] button`),
		chromedp.WaitVisible(`ul.codes`), chromedp.Click(`form button[type=submit]`), chromedp.WaitVisible(`a[href="/account/passkey"]`))
	if factors, _ := f.st.ListSecondFactors(ctx, f.bob.ID); len(factors) != 1 || factors[0].Kind != store.FactorPasskey {
		t.Errorf("Bob's factors: %+v", factors)
	}

	// The second step with an authenticator app's code.
	f.enrolTOTP(f.alice)
	signOut()
	run("sign in with a code", chromedp.Navigate(f.issuer+"/signin?next=%2F"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "alice.martin"), chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("code")))
	checkPage(t, bctx, axe, "second-step-totp", "fr", "")
	run("type the code", chromedp.SendKeys(chromedp.ID("code"), f.codeAt(totpSecret, 0)), chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(`a[href="/account/passkey"]`))
}
