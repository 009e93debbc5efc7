package idp

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// logoutWith sends an RP-initiated logout with hint from b.
func (f *fixture) logoutWith(b *browser, hint string) result {
	return b.get(f.issuer + "/logout?id_token_hint=" + url.QueryEscape(hint))
}

// A logout at sesame revokes the tokens issued under the session: the
// refresh token stops working at once, and so does the access token.
func TestLogoutRevokesTheSessionsTokens(t *testing.T) {
	f := newFixture(t)
	b := f.loggedIn()
	code := f.codeFor(b, f.gen, genRedirect)
	st, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
	if st != 200 {
		t.Fatalf("exchange: %d %v", st, body)
	}
	if res := f.logoutWith(b, body["id_token"].(string)); res.status != http.StatusOK {
		t.Fatalf("logout: %d", res.status)
	}
	if st, _ := f.userinfo(body["access_token"].(string)); st != http.StatusUnauthorized {
		t.Errorf("the access token after logout: %d, want 401", st)
	}
	st, b2 := f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}})
	if st != http.StatusBadRequest || errCode(b2) != "invalid_grant" {
		t.Errorf("the refresh token after logout: %d %v", st, b2)
	}
}

// From a browser without the session's cookie, a hint ends the session its
// sid names only while it is fresh; an old ID token (from a log, say) does
// nothing, and an access token is no hint at all.
func TestLogoutHintWithoutTheCookie(t *testing.T) {
	f := newFixture(t)
	b := f.loggedIn()
	code := f.codeFor(b, f.gen, genRedirect)
	_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
	idToken, accessToken := body["id_token"].(string), body["access_token"].(string)
	stillIn := func() bool {
		return !b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))).isLoginForm()
	}

	if res := f.logoutWith(f.browser(), accessToken); res.status != http.StatusBadRequest || !stillIn() {
		t.Fatalf("an access token as hint: %d, session still there: %v", res.status, stillIn())
	}
	f.clock.Advance(2 * time.Hour) // the ID token has expired (1 h); the session lives on (idle 8 h)
	if res := f.logoutWith(f.browser(), idToken); res.status != http.StatusOK || !stillIn() {
		t.Fatalf("an expired hint from another browser ended the session (%d)", res.status)
	}
	// A fresh hint from another browser (the cookie is gone) still works.
	code = f.codeFor(b, f.gen, genRedirect)
	_, body = f.exchange(f.gen, secretGen, code, genRedirect, "")
	if res := f.logoutWith(f.browser(), body["id_token"].(string)); res.status != http.StatusOK || stillIn() {
		t.Fatalf("a fresh hint did not end the session (%d)", res.status)
	}
}
