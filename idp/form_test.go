package idp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Every form the provider reads stops at 64 KiB (web.MaxFormBytes): a
// 100 KiB login form, authorization, token, userinfo or logout request is
// answered 413 and changes nothing (no request stored, no session, the
// code still unused, the session still alive), while the same request
// without the filler goes through.
func TestFormsStopAt64KiB(t *testing.T) {
	f := newFixture(t)
	filler := strings.Repeat("a", 100<<10)
	pad := func(v url.Values) url.Values { v.Set("filler", filler); return v }
	tooLarge := func(what string, res result) {
		t.Helper()
		if res.status != http.StatusRequestEntityTooLarge || res.location != nil || !strings.Contains(res.body, "trop volumineuse") {
			t.Fatalf("%s with a 100 KiB body: %d %v %.300s", what, res.status, res.location, res.body)
		}
	}

	// Authorization by POST: nothing stored, not even the browser cookie.
	b := f.browser()
	tooLarge("POST /authorize", b.post(f.issuer+"/authorize", pad(authParams(f.gen.ClientID, genRedirect))))
	if u, _ := url.Parse(f.issuer); len(b.client.Jar.Cookies(u)) != 0 {
		t.Errorf("a refused authorization set cookies: %v", b.client.Jar.Cookies(u))
	}
	res := b.get(f.issuer + "/authorize?" + pad(authParams(f.gen.ClientID, genRedirect)).Encode())
	if res.status != http.StatusRequestURITooLong || res.isLoginForm() {
		t.Errorf("GET /authorize with a 100 KiB query: %d", res.status)
	}

	// The login form, with the right password: no session, and the request
	// is still open for the real form.
	form := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect)))
	m := reqField.FindStringSubmatch(form.body)
	if m == nil {
		t.Fatalf("no login form: %d", form.status)
	}
	tooLarge("POST /login", b.post(f.issuer+"/login", pad(url.Values{"req": {m[1]}, "username": {"alice.martin"}, "password": {testPassword}})))
	if sessionCookieOf(b, f) != "" {
		t.Fatal("a refused login form opened a session")
	}
	if res := b.login(form, "alice.martin", testPassword); res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("the login request did not survive the refused form: %d %v", res.status, res.location)
	}

	// The token endpoint answers JSON, and the code stays unused.
	code := f.codeFor(b, f.gen, genRedirect)
	st, body := f.tokenReq(f.gen.ClientID, secretGen, true, pad(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {genRedirect}}))
	if st != http.StatusRequestEntityTooLarge || errCode(body) != "invalid_request" {
		t.Fatalf("POST /token with a 100 KiB body: %d %s", st, fmtJSON(body))
	}
	st, body = f.exchange(f.gen, secretGen, code, genRedirect, "")
	if st != http.StatusOK {
		t.Fatalf("the code did not survive the refused token request: %d %s", st, fmtJSON(body))
	}
	req, _ := http.NewRequest(http.MethodPost, f.issuer+"/userinfo",
		strings.NewReader(pad(url.Values{"access_token": {body["access_token"].(string)}}).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /userinfo with a 100 KiB body: %d", resp.StatusCode)
	}

	// A confirmed logout, padded: the session lives on.
	tooLarge("POST /logout", b.post(f.issuer+"/logout", pad(url.Values{"confirm": {"1"}})))
	res = b.get(f.issuer + "/logout?" + pad(url.Values{"id_token_hint": {body["id_token"].(string)}}).Encode())
	if res.status != http.StatusRequestURITooLong {
		t.Errorf("GET /logout with a 100 KiB query: %d", res.status)
	}
	if res := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))); res.isLoginForm() {
		t.Error("a refused logout ended the session")
	}
	if res := b.post(f.issuer+"/logout", url.Values{"confirm": {"1"}}); res.status != http.StatusOK || !strings.Contains(res.body, "déconnecté") {
		t.Errorf("the same logout without the filler: %d", res.status)
	}
}

// A malformed form body (a bad percent escape) is a 400, told apart from a
// body that is too large, on every endpoint that reads one.
func TestMalformedForms(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		path, contains string
	}{
		{"/authorize", "mal formée"},
		{"/login", "mal formé"},
		{"/token", `"error":"invalid_request"`},
		{"/userinfo", `"error":"invalid_request"`},
	} {
		req, _ := http.NewRequest(http.MethodPost, f.issuer+c.path, strings.NewReader("client_id=%zz"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res := f.browser().do(req)
		if res.status != http.StatusBadRequest || !strings.Contains(res.body, c.contains) {
			t.Errorf("POST %s with a malformed body: %d %.300s", c.path, res.status, res.body)
		}
	}
}
