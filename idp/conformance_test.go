package idp

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/store"
)

// loggedIn returns a browser with a session of alice, and the code flow's
// result for the generic client.
func (f *fixture) loggedIn() *browser {
	f.t.Helper()
	b := f.browser()
	v := authParams(f.gen.ClientID, genRedirect)
	res := b.login(b.get(f.authURL(v)), "alice.martin", testPassword)
	f.codeFrom(res, genRedirect, v.Get("state"))
	return b
}

// codeFor runs an authorization for svc in a logged-in browser and returns
// the code.
func (f *fixture) codeFor(b *browser, svc store.Service, redirect string, extra ...string) string {
	f.t.Helper()
	v := authParams(svc.ClientID, redirect, extra...)
	res := b.get(f.authURL(v))
	if res.isLoginForm() {
		res = b.login(res, "alice.martin", testPassword)
	}
	return f.codeFrom(res, redirect, v.Get("state"))
}

// wantErrorRedirect checks an OAuth error sent back to the client.
func (f *fixture) wantErrorRedirect(res result, redirect, code, state string) {
	f.t.Helper()
	if res.location == nil || !strings.HasPrefix(res.location.String(), redirect) {
		f.t.Fatalf("want an error redirect to %s, got %d %v %.200s", redirect, res.status, res.location, res.body)
	}
	q := res.location.Query()
	if q.Get("error") != code || q.Get("code") != "" || q.Get("state") != state {
		f.t.Fatalf("redirect %s, want error=%s state=%s", res.location, code, state)
	}
}

// wantPage checks that the browser stays at sesame on an error page.
func wantPage(t *testing.T, res result, status int, contains string) {
	t.Helper()
	if res.location != nil || res.status != status || !strings.Contains(res.body, contains) {
		t.Fatalf("want page %d with %q, got %d %v %.300s", status, contains, res.status, res.location, res.body)
	}
}

func TestConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		conformanceSuite(t, func(t *testing.T) *fixture { return newFixture(t, sharedKeys(t)) })
	})
	t.Run("postgres", func(t *testing.T) {
		open := postgresPerCase(t)
		conformanceSuite(t, func(t *testing.T) *fixture { return newFixtureOn(t, open(t), sharedKeys(t)) })
	})
}

// conformanceSuite is the negative suite, named after the OpenID
// Foundation's OP conformance modules it mirrors, plus the tricks behind
// other providers' advisories. Every case builds its own fixture with
// newFixture(t) on its own *testing.T: its own store contents, provider,
// server and clock, so that a case's failure is reported on that case and
// no case sees another's sessions, grants or time.
func conformanceSuite(t *testing.T, newFixture func(*testing.T) *fixture) {
	ctx := context.Background()

	t.Run("oidcc-codereuse", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		v, ch := pkce()
		code := f.codeFor(b, f.nc, ncRedirect, "code_challenge", ch, "code_challenge_method", "S256")
		st, body := f.exchange(f.nc, secretNC, code, ncRedirect, v)
		if st != 200 {
			t.Fatalf("first exchange %d %s", st, fmtJSON(body))
		}
		if st, _ := f.userinfo(body["access_token"].(string)); st != 200 {
			t.Fatalf("userinfo before replay: %d", st)
		}
		st, body2 := f.exchange(f.nc, secretNC, code, ncRedirect, v)
		if st != 400 || errCode(body2) != "invalid_grant" {
			t.Fatalf("replay %d %s", st, fmtJSON(body2))
		}
		if st, _ := f.userinfo(body["access_token"].(string)); st != 401 {
			t.Errorf("the replayed code's access token still works: %d", st)
		}
		st, body3 := f.tokenReq(f.nc.ClientID, secretNC, false, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}})
		if st != 400 || errCode(body3) != "invalid_grant" {
			t.Errorf("the replayed code's refresh token still works: %d %s", st, fmtJSON(body3))
		}
	})
	t.Run("oidcc-codereuse-30seconds", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		if st, _ := f.exchange(f.gen, secretGen, code, genRedirect, ""); st != 200 {
			t.Fatal(st)
		}
		f.clock.Advance(30 * time.Second)
		if st, body := f.exchange(f.gen, secretGen, code, genRedirect, ""); st != 400 || errCode(body) != "invalid_grant" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
	})
	t.Run("oidcc-codereuse-concurrent-twenty", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, _ := f.exchange(f.gen, secretGen, code, genRedirect, "")
				if st == 200 {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d exchanges of one code succeeded", ok)
		}
	})
	t.Run("oidcc-ensure-registered-redirect-uri", func(t *testing.T) {
		f := newFixture(t)
		res := f.browser().get(f.authURL(authParams(f.gen.ClientID, "https://evil.example/callback")))
		wantPage(t, res, 400, "pas enregistrée")
	})
	t.Run("oidcc-ensure-redirect-uri-in-authorization-request", func(t *testing.T) {
		f := newFixture(t)
		res := f.browser().get(f.authURL(authParams(f.gen.ClientID, genRedirect, "redirect_uri", "")))
		wantPage(t, res, 400, "pas enregistrée")
	})
	t.Run("redirect-uri-with-added-query-parameter", func(t *testing.T) {
		f := newFixture(t)
		res := f.browser().get(f.authURL(authParams(f.gen.ClientID, genRedirect+"?x=1")))
		wantPage(t, res, 400, "pas enregistrée")
		res = f.browser().get(f.authURL(authParams(f.pk.ClientID, pkRedirect+"&evil=1")))
		wantPage(t, res, 400, "pas enregistrée")
	})
	for name, uri := range map[string]string{
		"advisory-userinfo-host":     "http://localhost:80@evil.example/callback",
		"advisory-javascript-uri":    "javascript:alert(document.domain)//https://app.example/callback",
		"advisory-data-uri":          "data:text/html,<script>alert(1)</script>",
		"advisory-path-traversal":    "https://app.example/callback/../../evil",
		"advisory-double-encoded":    "https://app.example/callback%252F..%252F..%252Fevil",
		"advisory-encoded-traversal": "https://app.example/callback/%2e%2e/evil",
		"advisory-prefix-match":      "https://app.example/callback.evil.example",
		"advisory-case-change":       "https://APP.example/callback",
		"advisory-trailing-slash":    "https://app.example/callback/",
		"advisory-backslash":         "https://app.example\\@evil.example/callback",
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			res := f.browser().get(f.authURL(authParams(f.gen.ClientID, uri)))
			wantPage(t, res, 400, "pas enregistrée")
			if name != "advisory-prefix-match" && name != "advisory-case-change" && name != "advisory-trailing-slash" {
				if err := ValidateRedirectURI(uri); err == nil {
					t.Errorf("ValidateRedirectURI(%q) accepted it", uri)
				}
			}
		})
	}
	t.Run("oidcc-prompt-none-not-logged-in", func(t *testing.T) {
		f := newFixture(t)
		v := authParams(f.gen.ClientID, genRedirect, "prompt", "none")
		f.wantErrorRedirect(f.browser().get(f.authURL(v)), genRedirect, "login_required", v.Get("state"))
	})
	t.Run("oidcc-prompt-none-logged-in", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		v := authParams(f.gen.ClientID, genRedirect, "prompt", "none")
		f.codeFrom(b.get(f.authURL(v)), genRedirect, v.Get("state"))
	})
	t.Run("oidcc-prompt-login", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		res := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect, "prompt", "login")))
		if !res.isLoginForm() {
			t.Fatalf("prompt=login did not ask again: %d %v", res.status, res.location)
		}
	})
	t.Run("prompt-none-with-login-is-invalid", func(t *testing.T) {
		f := newFixture(t)
		v := authParams(f.gen.ClientID, genRedirect, "prompt", "none login")
		f.wantErrorRedirect(f.loggedIn().get(f.authURL(v)), genRedirect, "invalid_request", v.Get("state"))
	})
	t.Run("oidcc-max-age-1", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		f.clock.Advance(2 * time.Second)
		v := authParams(f.gen.ClientID, genRedirect, "max_age", "1")
		res := b.get(f.authURL(v))
		if !res.isLoginForm() {
			t.Fatalf("max_age=1 after 2 s did not ask again: %d %v", res.status, res.location)
		}
		code := f.codeFrom(b.login(res, "alice.martin", testPassword), genRedirect, v.Get("state"))
		st, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		if st != 200 {
			t.Fatal(st)
		}
		c := idClaims(t, body)
		if int64(c["auth_time"].(float64)) != f.clock.Now().Unix() {
			t.Errorf("auth_time %v, want %d", c["auth_time"], f.clock.Now().Unix())
		}
	})
	t.Run("oidcc-max-age-10000", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		f.clock.Advance(2 * time.Second)
		v := authParams(f.gen.ClientID, genRedirect, "max_age", "10000")
		f.codeFrom(b.get(f.authURL(v)), genRedirect, v.Get("state"))
	})
	t.Run("oidcc-ensure-request-with-unknown-parameter-succeeds", func(t *testing.T) {
		f := newFixture(t)
		f.codeFor(f.loggedIn(), f.gen, genRedirect, "extra", "foobar", "vendor_thing", "1")
	})
	t.Run("oidcc-ensure-request-with-claims-parameter-succeeds", func(t *testing.T) {
		f := newFixture(t)
		f.codeFor(f.loggedIn(), f.gen, genRedirect, "claims", `{"id_token":{"email":{"essential":true}}}`)
	})
	t.Run("oidcc-ensure-request-with-malformed-claims-succeeds", func(t *testing.T) {
		f := newFixture(t)
		f.codeFor(f.loggedIn(), f.gen, genRedirect, "claims", `{not json`)
	})
	t.Run("oidcc-id-token-hint", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		code := f.codeFor(b, f.gen, genRedirect)
		_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		v := authParams(f.gen.ClientID, genRedirect, "prompt", "none", "id_token_hint", body["id_token"].(string))
		f.codeFrom(b.get(f.authURL(v)), genRedirect, v.Get("state"))
	})
	t.Run("oidcc-id-token-hint-other-subject-prompt-none", func(t *testing.T) {
		f := newFixture(t)
		// alice's ID token as the hint, while the browser's session is bob's.
		_, body := f.exchange(f.gen, secretGen, f.codeFor(f.loggedIn(), f.gen, genRedirect), genRedirect, "")
		if err := f.st.PutGrant(context.Background(), store.Grant{PersonID: f.bob.ID, ServiceID: f.gen.ID, Role: "user"}); err != nil {
			t.Fatal(err)
		}
		b := f.browser()
		v := authParams(f.gen.ClientID, genRedirect)
		f.codeFrom(b.login(b.get(f.authURL(v)), "bob.durand", testPassword), genRedirect, v.Get("state"))
		v = authParams(f.gen.ClientID, genRedirect, "prompt", "none", "id_token_hint", body["id_token"].(string))
		f.wantErrorRedirect(b.get(f.authURL(v)), genRedirect, "login_required", v.Get("state"))
	})
	t.Run("oidcc-id-token-hint-forged", func(t *testing.T) {
		f := newFixture(t)
		v := authParams(f.gen.ClientID, genRedirect, "prompt", "none", "id_token_hint", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
		f.wantErrorRedirect(f.loggedIn().get(f.authURL(v)), genRedirect, "invalid_request", v.Get("state"))
	})
	t.Run("oidcc-ensure-request-without-nonce-succeeds-for-code-flow", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		if c := idClaims(t, body); c["nonce"] != nil {
			t.Errorf("nonce %v", c["nonce"])
		}
	})
	t.Run("oidcc-ensure-post-request-succeeds", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		v := authParams(f.gen.ClientID, genRedirect)
		f.codeFrom(b.post(f.issuer+"/authorize", v), genRedirect, v.Get("state"))
	})
	t.Run("oidcc-response-type-missing", func(t *testing.T) {
		f := newFixture(t)
		v := authParams(f.gen.ClientID, genRedirect, "response_type", "")
		f.wantErrorRedirect(f.loggedIn().get(f.authURL(v)), genRedirect, "unsupported_response_type", v.Get("state"))
	})
	t.Run("oidcc-ensure-response-type-token-refused", func(t *testing.T) {
		f := newFixture(t)
		v := authParams(f.gen.ClientID, genRedirect, "response_type", "token id_token")
		f.wantErrorRedirect(f.loggedIn().get(f.authURL(v)), genRedirect, "unsupported_response_type", v.Get("state"))
	})
	t.Run("oidcc-unsigned-request-object-refused", func(t *testing.T) {
		f := newFixture(t)
		v := authParams(f.gen.ClientID, genRedirect, "request", "eyJhbGciOiJub25lIn0.e30.")
		f.wantErrorRedirect(f.loggedIn().get(f.authURL(v)), genRedirect, "request_not_supported", v.Get("state"))
	})
	t.Run("oidcc-scope-openid-missing", func(t *testing.T) {
		f := newFixture(t)
		v := authParams(f.gen.ClientID, genRedirect, "scope", "email profile")
		f.wantErrorRedirect(f.loggedIn().get(f.authURL(v)), genRedirect, "invalid_scope", v.Get("state"))
	})
	t.Run("oidcc-scope-email-only", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect, "scope", "openid email")
		_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		c := idClaims(t, body)
		if c["email"] == nil || c["preferred_username"] != nil {
			t.Errorf("scope email gave %s", fmtJSON(c))
		}
	})
	t.Run("oidcc-client-secret-basic-wrong-secret", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		st, body := f.tokenReq(f.gen.ClientID, "wrong", true, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {genRedirect}})
		if st != 401 || errCode(body) != "invalid_client" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
	})
	t.Run("oidcc-client-secret-post-wrong-secret", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.wp, wpRedirect)
		st, body := f.tokenReq(f.wp.ClientID, secretWP+"x", false, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {wpRedirect}})
		if st != 401 || errCode(body) != "invalid_client" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
	})
	t.Run("unknown-client-at-token-endpoint", func(t *testing.T) {
		f := newFixture(t)
		st, body := f.tokenReq("nobody", "x", false, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}})
		if st != 401 || errCode(body) != "invalid_client" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
	})
	t.Run("unregistered-auth-method-refused", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		st, body := f.tokenReq(f.gen.ClientID, secretGen, false, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {genRedirect}})
		if st != 401 || errCode(body) != "invalid_client" {
			t.Fatalf("post to a basic client: %d %s", st, fmtJSON(body))
		}
	})
	t.Run("pkce-plain-refused", func(t *testing.T) {
		f := newFixture(t)
		v := authParams(f.nc.ClientID, ncRedirect, "code_challenge", strings.Repeat("a", 43), "code_challenge_method", "plain")
		f.wantErrorRedirect(f.loggedIn().get(f.authURL(v)), ncRedirect, "invalid_request", v.Get("state"))
	})
	t.Run("pkce-empty-method-refused", func(t *testing.T) {
		f := newFixture(t)
		_, ch := pkce()
		v := authParams(f.gen.ClientID, genRedirect, "code_challenge", ch)
		f.wantErrorRedirect(f.loggedIn().get(f.authURL(v)), genRedirect, "invalid_request", v.Get("state"))
	})
	t.Run("pkce-missing-for-require-pkce-client", func(t *testing.T) {
		f := newFixture(t)
		v := authParams(f.nc.ClientID, ncRedirect)
		f.wantErrorRedirect(f.loggedIn().get(f.authURL(v)), ncRedirect, "invalid_request", v.Get("state"))
	})
	t.Run("pkce-challenge-without-verifier", func(t *testing.T) {
		f := newFixture(t)
		_, ch := pkce()
		code := f.codeFor(f.loggedIn(), f.nc, ncRedirect, "code_challenge", ch, "code_challenge_method", "S256")
		if st, body := f.exchange(f.nc, secretNC, code, ncRedirect, ""); st != 400 || errCode(body) != "invalid_grant" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
	})
	t.Run("pkce-wrong-verifier", func(t *testing.T) {
		f := newFixture(t)
		_, ch := pkce()
		other, _ := pkce()
		code := f.codeFor(f.loggedIn(), f.nc, ncRedirect, "code_challenge", ch, "code_challenge_method", "S256")
		if st, body := f.exchange(f.nc, secretNC, code, ncRedirect, other); st != 400 || errCode(body) != "invalid_grant" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
		// a failed exchange burns the code
		if st, _ := f.exchange(f.nc, secretNC, code, ncRedirect, other); st != 400 {
			t.Fatal(st)
		}
	})
	t.Run("pkce-verifier-without-challenge", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		v, _ := pkce()
		if st, body := f.exchange(f.gen, secretGen, code, genRedirect, v); st != 400 || errCode(body) != "invalid_grant" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
	})
	t.Run("expired-code", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		f.clock.Advance(61 * time.Second)
		if st, body := f.exchange(f.gen, secretGen, code, genRedirect, ""); st != 400 || errCode(body) != "invalid_grant" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
	})
	t.Run("code-bound-to-another-client", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		st, body := f.tokenReq(f.wp.ClientID, secretWP, false, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {genRedirect}})
		if st != 400 || errCode(body) != "invalid_grant" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
	})
	t.Run("token-redirect-uri-mismatch", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		if st, body := f.exchange(f.gen, secretGen, code, genRedirect+"?x", ""); st != 400 || errCode(body) != "invalid_grant" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
	})
	t.Run("unsupported-grant-type", func(t *testing.T) {
		f := newFixture(t)
		st, body := f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"password"}, "username": {"alice.martin"}, "password": {testPassword}})
		if st != 400 || errCode(body) != "unsupported_grant_type" {
			t.Fatalf("%d %s", st, fmtJSON(body))
		}
	})
	t.Run("person-without-grant-gets-no-code", func(t *testing.T) {
		f := newFixture(t)
		b := f.browser()
		v := authParams(f.gen.ClientID, genRedirect)
		res := b.login(b.get(f.authURL(v)), "bob.durand", testPassword)
		wantPage(t, res, http.StatusForbidden, "avez pas accès au service Appli de Le Bêta")
		if !strings.Contains(res.body, "referente@lebeta.example") {
			t.Error("the page does not name the structure's contact")
		}
	})
	t.Run("disabled-person-refused", func(t *testing.T) {
		f := newFixture(t)
		b := f.browser()
		res := b.login(b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), "carol.petit", testPassword)
		wantPage(t, res, http.StatusUnauthorized, "incorrect")
	})
	t.Run("invited-person-refused", func(t *testing.T) {
		f := newFixture(t)
		b := f.browser()
		res := b.login(b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), "dave.roux", testPassword)
		wantPage(t, res, http.StatusUnauthorized, "incorrect")
	})
	t.Run("wrong-password-and-unknown-account-look-alike", func(t *testing.T) {
		f := newFixture(t)
		b := f.browser()
		r1 := b.login(b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), "alice.martin", "wrong")
		r2 := b.login(b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), "nobody.here", "wrong")
		wantPage(t, r1, http.StatusUnauthorized, "incorrect")
		wantPage(t, r2, http.StatusUnauthorized, "incorrect")
	})
	t.Run("login-form-from-another-browser-refused", func(t *testing.T) {
		f := newFixture(t)
		res := f.browser().get(f.authURL(authParams(f.gen.ClientID, genRedirect)))
		other := f.browser()
		wantPage(t, other.login(res, "alice.martin", testPassword), 400, "plus valable")
	})
	t.Run("oidcc-refresh-token", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		rt := body["refresh_token"].(string)
		refresh := func(tok string) (int, map[string]any) {
			return f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}})
		}
		st, b2 := refresh(rt)
		if st != 200 || b2["refresh_token"] == nil || b2["id_token"] == nil {
			t.Fatalf("%d %s", st, fmtJSON(b2))
		}
		// reuse of the old one revokes the family, the new one included
		if st, b3 := refresh(rt); st != 400 || errCode(b3) != "invalid_grant" {
			t.Fatalf("reuse %d %s", st, fmtJSON(b3))
		}
		if st, _ := refresh(b2["refresh_token"].(string)); st != 400 {
			t.Fatalf("the family survived a reuse: %d", st)
		}
		if st, _ := f.userinfo(b2["access_token"].(string)); st != 401 {
			t.Fatalf("an access token of a revoked family works: %d", st)
		}
	})
	t.Run("refresh-scope-cannot-widen", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect, "scope", "openid email")
		_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		st, b2 := f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}, "scope": {"openid email profile"}})
		if st != 400 || errCode(b2) != "invalid_scope" {
			t.Fatalf("%d %s", st, fmtJSON(b2))
		}
	})
	t.Run("twenty-parallel-refreshes", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		rt := body["refresh_token"].(string)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, _ := f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
				if st == 200 {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d of 20 parallel refreshes succeeded, want exactly 1", ok)
		}
	})
	t.Run("refresh-token-of-client-a-refused-for-client-b", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		st, b2 := f.tokenReq(f.nc.ClientID, secretNC, false, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}})
		if st != 400 || errCode(b2) != "invalid_grant" {
			t.Fatalf("%d %s", st, fmtJSON(b2))
		}
		// and the rightful client still can
		st, _ = f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}})
		if st != 200 {
			t.Fatalf("the rightful client lost its token: %d", st)
		}
	})
	t.Run("wordpress-stale-state-goes-to-its-login-page", func(t *testing.T) {
		f := newFixture(t)
		b := f.browser()
		res := b.get(f.authURL(authParams(f.wp.ClientID, wpRedirect)))
		f.clock.Advance(4 * time.Minute)
		res = b.login(res, "alice.martin", testPassword)
		if res.location == nil || res.location.String() != f.wp.BaseURL+"/wp-login.php" {
			t.Fatalf("%d %v", res.status, res.location)
		}
		// the button there starts a fresh request, answered by the session
		v := authParams(f.wp.ClientID, wpRedirect)
		f.codeFrom(b.get(f.authURL(v)), wpRedirect, v.Get("state"))
	})
	t.Run("no-refresh-token-for-wordpress", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.wp, wpRedirect)
		_, body := f.exchange(f.wp, secretWP, code, wpRedirect, "")
		if body["refresh_token"] != nil {
			t.Fatal("WordPress got a refresh token")
		}
	})
	t.Run("userinfo-forged-token", func(t *testing.T) {
		f := newFixture(t)
		for _, tok := range []string{"nope", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", strings.Repeat("a", 100)} {
			if st, _ := f.userinfo(tok); st != 401 {
				t.Errorf("userinfo with %q: %d", tok, st)
			}
		}
	})
	t.Run("userinfo-id-token-is-not-an-access-token", func(t *testing.T) {
		f := newFixture(t)
		code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
		_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		if st, _ := f.userinfo(body["id_token"].(string)); st != 401 {
			t.Errorf("an ID token opened userinfo: %d", st)
		}
	})
	t.Run("new-session-id-after-every-login", func(t *testing.T) {
		f := newFixture(t)
		b := f.browser()
		v := authParams(f.gen.ClientID, genRedirect)
		b.login(b.get(f.authURL(v)), "alice.martin", testPassword)
		first := sessionCookieOf(b, f)
		res := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect, "prompt", "login")))
		b.login(res, "alice.martin", testPassword)
		second := sessionCookieOf(b, f)
		if first == "" || second == "" || first == second {
			t.Fatalf("session cookie %q then %q", first, second)
		}
		if _, err := f.p.st.GetSSOSession(ctx, sha(first)); err == nil {
			t.Error("the old session id still opens a session")
		}
	})
	t.Run("disabling-a-person-ends-their-sessions", func(t *testing.T) {
		f := newFixture(t)
		erin := store.Person{Username: "erin.blanc", Email: "erin@lebeta.example", GivenName: "Erin", FamilyName: "Blanc",
			State: store.StateActive, PasswordHash: f.hash(testPassword)}
		if err := f.st.CreatePerson(ctx, &erin); err != nil {
			t.Fatal(err)
		}
		_ = f.st.PutGrant(ctx, store.Grant{PersonID: erin.ID, ServiceID: f.gen.ID, Role: "user"})
		b := f.browser()
		v := authParams(f.gen.ClientID, genRedirect)
		code := f.codeFrom(b.login(b.get(f.authURL(v)), "erin.blanc", testPassword), genRedirect, v.Get("state"))
		_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		before := len(f.bc.all())
		if _, err := f.st.UpdatePerson(ctx, erin.ID, func(p *store.Person) error { p.State = store.StateDisabled; return nil }); err != nil {
			t.Fatal(err)
		}
		// Even before sessions are ended, the state is checked on every use.
		if res := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))); !res.isLoginForm() {
			t.Fatalf("a disabled person's session still works: %d %v", res.status, res.location)
		}
		if st, _ := f.userinfo(body["access_token"].(string)); st != 401 {
			t.Errorf("userinfo for a disabled person: %d", st)
		}
		st, b2 := f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}})
		if st != 400 || errCode(b2) != "invalid_grant" {
			t.Errorf("refresh for a disabled person: %d %s", st, fmtJSON(b2))
		}
		if err := f.p.EndAllSessions(ctx, erin.ID); err != nil {
			t.Fatal(err)
		}
		f.deliver()
		if len(f.bc.all()) != before+1 {
			t.Errorf("no back-channel logout on disable")
		}
	})
	t.Run("oidcc-rp-initiated-logout-bad-post-logout-redirect-uri", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		res := b.get(f.issuer + "/logout?client_id=" + f.gen.ClientID + "&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/"))
		wantPage(t, res, 400, "pas enregistrée")
	})
	t.Run("oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri", func(t *testing.T) {
		f := newFixture(t)
		res := f.loggedIn().get(f.issuer + "/logout?client_id=" + f.gen.ClientID + "&post_logout_redirect_uri=" + url.QueryEscape("https://app.example/bye?x=1"))
		wantPage(t, res, 400, "pas enregistrée")
	})
	t.Run("oidcc-rp-initiated-logout-no-client", func(t *testing.T) {
		f := newFixture(t)
		res := f.loggedIn().get(f.issuer + "/logout?post_logout_redirect_uri=" + url.QueryEscape("https://app.example/bye"))
		wantPage(t, res, 400, "pas enregistrée")
	})
	t.Run("oidcc-rp-initiated-logout-bad-id-token-hint", func(t *testing.T) {
		f := newFixture(t)
		res := f.loggedIn().get(f.issuer + "/logout?id_token_hint=eyJhbGciOiJub25lIn0.e30.&post_logout_redirect_uri=" + url.QueryEscape("https://app.example/bye"))
		wantPage(t, res, 400, "pas été émis")
	})
	t.Run("oidcc-rp-initiated-logout-id-token-hint-of-another-client", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		code := f.codeFor(b, f.gen, genRedirect)
		_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
		res := b.get(f.issuer + "/logout?client_id=" + f.wp.ClientID + "&id_token_hint=" + body["id_token"].(string))
		wantPage(t, res, 400, "autre service")
	})
	t.Run("oidcc-rp-initiated-logout-nextcloud-unencoded", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		res := b.get(f.issuer + "/logout?client_id=" + f.nc.ClientID + "&post_logout_redirect_uri=" + ncLogout + "&state=a/b?c")
		// No id_token_hint: the person is asked first, then confirms.
		wantPage(t, res, 200, "Se déconnecter de sesame")
		res = b.post(f.issuer+"/logout", url.Values{"client_id": {f.nc.ClientID}, "post_logout_redirect_uri": {ncLogout},
			"state": {"a/b?c"}, "confirm": {"1"}})
		if res.location == nil || res.location.String() != ncLogout+"&state=a%2Fb%3Fc" {
			t.Fatalf("%d %v %.2000s", res.status, res.location, res.body)
		}
		if r := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))); !r.isLoginForm() {
			t.Error("the session survived the logout")
		}
	})
	t.Run("logout-csrf-needs-confirmation", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		wantPage(t, b.get(f.issuer+"/logout"), 200, "Se déconnecter de sesame")
		req, _ := http.NewRequest(http.MethodPost, f.issuer+"/logout", strings.NewReader("confirm=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		wantPage(t, b.do(req), 200, "Se déconnecter de sesame")
		if r := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))); r.isLoginForm() {
			t.Error("a cross-site request ended the session")
		}
	})
	t.Run("logout-without-parameters", func(t *testing.T) {
		f := newFixture(t)
		b := f.loggedIn()
		wantPage(t, b.get(f.issuer+"/logout"), 200, "Se déconnecter de sesame")
		wantPage(t, b.post(f.issuer+"/logout", url.Values{"confirm": {"1"}}), 200, "déconnecté")
	})
}

func sessionCookieOf(b *browser, f *fixture) string {
	u, _ := url.Parse(f.issuer + "/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	return ""
}

func idClaims(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	raw, _ := body["id_token"].(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("no ID token in %s", fmtJSON(body))
	}
	b, err := base64RawURL(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := jsonUnmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
