package idp

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"sesame/internal/store"
)

// The refusals a person meets when they click "log out" in a service
// speak plainly: no "jeton"/"token" or "redirect URI", in either
// language, and they say how to log out anyway.
func TestLogoutAndRedirectRefusalsInPlainWords(t *testing.T) {
	f := newFixture(t)
	hint := f.issuer + "/logout?id_token_hint=eyJhbGciOiJub25lIn0.e30."
	badLogout := f.issuer + "/logout?client_id=" + f.gen.ClientID + "&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/bye")
	badLogin := f.authURL(authParams(f.gen.ClientID, "https://evil.example/cb"))
	for _, c := range []struct {
		name, url, lang string
		jargon          []string
		next            string
	}{
		{"foreign hint, fr", hint, "fr", []string{"jeton", "token"}, "Me déconnecter"},
		{"foreign hint, en", hint, "en", []string{"token"}, "Log out"},
		{"unregistered logout return, en", badLogout, "en", []string{"redirect URI", "post-logout"}, ""},
		{"unregistered login return, en", badLogin, "en", []string{"redirect URI"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := f.loggedIn().getLang(c.url, c.lang)
			if res.status != http.StatusBadRequest {
				t.Fatalf("%d %.300s", res.status, res.body)
			}
			lead := regexp.MustCompile(`<p class="lead" role="alert">([^<]*)</p>`).FindStringSubmatch(res.body)
			if lead == nil {
				t.Fatalf("no sentence:\n%s", res.body)
			}
			for _, j := range c.jargon {
				if strings.Contains(lead[1], j) {
					t.Errorf("the sentence %q holds the jargon %q", lead[1], j)
				}
			}
			if c.next != "" && !strings.Contains(lead[1], c.next) {
				t.Errorf("the sentence %q does not say how to log out (%q)", lead[1], c.next)
			}
		})
	}
}

var (
	describedBy = regexp.MustCompile(`aria-describedby="([^"]*)"`)
	idAttr      = regexp.MustCompile(`\sid="([^"]+)"`)
)

// describedByTargetsExist checks that every id an aria-describedby names
// is on the page.
func describedByTargetsExist(t *testing.T, what, body string) {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range idAttr.FindAllStringSubmatch(body, -1) {
		ids[m[1]] = true
	}
	for _, m := range describedBy.FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Fields(m[1]) {
			if !ids[id] {
				t.Errorf("%s: aria-describedby names %q, which is not on the page", what, id)
			}
		}
	}
}

// The second step's code field: a wrong code marks it invalid and names
// the message; its description never points at nothing (a person with a
// passkey only, who types a recovery code).
func TestSecondStepCodeFieldErrors(t *testing.T) {
	f := newFixture(t)
	f.enrolTOTP(f.alice)
	b := f.browser()
	res := b.login(b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), "alice.martin", testPassword)
	if !res.isSecondStep() {
		t.Fatalf("no second step: %d %.300s", res.status, res.body)
	}
	wrong := b.second("000000")
	if wrong.status != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", wrong.status)
	}
	if !regexp.MustCompile(`<input id="code"[^>]*aria-invalid="true"`).MatchString(wrong.body) {
		t.Errorf("a wrong code does not mark the code field invalid")
	}
	if !regexp.MustCompile(`<input id="code"[^>]*aria-describedby="[^"]*code-error`).MatchString(wrong.body) ||
		!strings.Contains(wrong.body, `id="code-error"`) {
		t.Errorf("the wrong code's message is not tied to the code field")
	}
	describedByTargetsExist(t, "the wrong code page", wrong.body)

	// Bob has a passkey only (and passkeys are off here): the field asks
	// for a recovery code.
	if err := f.st.CreateSecondFactor(context.Background(), &store.SecondFactor{PersonID: f.bob.ID, Kind: store.FactorPasskey,
		Name: "Ordinateur", Secret: []byte("x"), CredentialID: []byte("cred-bob")}); err != nil {
		t.Fatal(err)
	}
	b2 := f.browser()
	res = b2.login(b2.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), "bob.durand", testPassword)
	if !res.isSecondStep() {
		t.Fatalf("no second step for bob: %d %.300s", res.status, res.body)
	}
	describedByTargetsExist(t, "the passkey person's second step", res.body)
}

// A wrong code while enrolling at login keeps the device name typed.
func TestLoginEnrolKeepsName(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	v := authParams(f.gen.ClientID, genRedirect, "acr_values", ACRTwoFactor)
	res := b.login(b.get(f.authURL(v)), "alice.martin", testPassword)
	if !res.isEnrolment() {
		t.Fatalf("no enrolment: %d %.300s", res.status, res.body)
	}
	m := enrolmentField.FindStringSubmatch(res.body)
	wrong := b.post(f.issuer+"/second-factor", url.Values{"action": {"enrol"}, "enrolment": {html.UnescapeString(m[1])},
		"code": {"000000"}, "name": {"Téléphone de Alice"}})
	if wrong.status != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", wrong.status)
	}
	if !strings.Contains(wrong.body, `value="Téléphone de Alice"`) {
		t.Errorf("the device name typed is lost after a wrong code")
	}
	if !regexp.MustCompile(`<input id="code"[^>]*aria-invalid="true"[^>]*aria-describedby="code-error"`).MatchString(wrong.body) {
		t.Errorf("the wrong code's message is not tied to the code field")
	}
}
