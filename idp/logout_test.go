package idp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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

// The authorization response names the issuer (RFC 9207), on success and
// on error, and comes as a 303 after the login form's POST.
func TestAuthorizationResponseCarriesIssuer(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	v := authParams(f.gen.ClientID, genRedirect)
	res := b.login(b.get(f.authURL(v)), "alice.martin", testPassword)
	if res.status != http.StatusSeeOther || res.location == nil {
		t.Fatalf("after the login form: %d %v", res.status, res.location)
	}
	if q := res.location.Query(); q.Get("iss") != f.issuer || q.Get("code") == "" || q.Get("state") != v.Get("state") {
		t.Errorf("code response %s: want code, state and iss=%s", res.location, f.issuer)
	}
	res = f.browser().get(f.authURL(authParams(f.gen.ClientID, genRedirect, "prompt", "none")))
	if res.location == nil || res.location.Query().Get("error") != "login_required" || res.location.Query().Get("iss") != f.issuer {
		t.Errorf("error response %d %v: want login_required with iss", res.status, res.location)
	}
}

// The login form is only accepted from sesame's own pages: a post from
// another site, even a sibling subdomain, is refused before anything else.
func TestLoginFormRefusesOtherOrigins(t *testing.T) {
	f := newFixture(t)
	for _, h := range [][2]string{{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "same-site"}, {"Sec-Fetch-Site", "cross-site"}} {
		b := f.browser()
		form := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect)))
		m := reqField.FindStringSubmatch(form.body)
		if m == nil {
			t.Fatal("no login form")
		}
		req, _ := http.NewRequest(http.MethodPost, f.issuer+"/login",
			strings.NewReader(url.Values{"req": {m[1]}, "username": {"alice.martin"}, "password": {testPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(h[0], h[1])
		if res := b.do(req); res.status != http.StatusForbidden || res.location != nil {
			t.Errorf("login posted with %s: %s: %d %v, want 403", h[0], h[1], res.status, res.location)
		}
	}
}

// Over https every endpoint sends Strict-Transport-Security, and the
// cookies take the __Host- prefix (no sibling subdomain can set them).
func TestHSTSOverHTTPS(t *testing.T) {
	st := openStore(t)
	p, err := New(t.Context(), Config{Issuer: "https://sso.example", Store: st, Hasher: testHasher(),
		MasterKey: []byte("0123456789abcdef0123456789abcdef"), RSABits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	if p.cookieSSO != "__Host-sesame_sso" || p.cookieBrowser != "__Host-sesame_browser" {
		t.Errorf("cookie names over https at the root: %q, %q", p.cookieSSO, p.cookieBrowser)
	}
	mux := http.NewServeMux()
	p.Mount(mux)
	for _, path := range []string{"/jwks", "/.well-known/openid-configuration", "/authorize", "/logout"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://sso.example"+path, nil))
		if rec.Header().Get("Strict-Transport-Security") == "" {
			t.Errorf("%s: no Strict-Transport-Security (status %d)", path, rec.Code)
		}
	}
}
