package demorp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// newTestRP mounts an RP whose issuer is a stub publishing only its
// discovery document (enough to start a login; the whole flow against
// sesame is tested by cmd/sesame's TestDemoJourney).
func newTestRP(t *testing.T) (*httptest.Server, *RP) {
	t.Helper()
	issuer := httptest.NewServer(nil)
	t.Cleanup(issuer.Close)
	issuer.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": issuer.URL,
			"authorization_endpoint": issuer.URL + "/authorize", "token_endpoint": issuer.URL + "/token",
			"jwks_uri": issuer.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	rp := &RP{Issuer: issuer.URL, ClientID: "demo.demo", ClientSecret: "s"}
	mux := http.NewServeMux()
	rp.Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	rp.BaseURL = srv.URL + "/demo"
	return srv, rp
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func TestHomeAndLogin(t *testing.T) {
	srv, rp := newTestRP(t)
	c := &http.Client{CheckRedirect: noRedirect}
	resp, err := c.Get(srv.URL + Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("home: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}

	resp, err = c.Get(srv.URL + Path + "login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), rp.Issuer+"/authorize?") || q.Get("client_id") != "demo.demo" ||
		q.Get("redirect_uri") != rp.RedirectURI() || q.Get("code_challenge_method") != "S256" ||
		q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("login redirects to %s", loc)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == stateCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.Path != Path || !strings.HasPrefix(cookie.Value, q.Get("state")+".") {
		t.Fatalf("the state cookie: %+v", cookie)
	}

	// A callback whose state is not the cookie's is refused, and nothing
	// is exchanged.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+Path+"callback?"+url.Values{"code": {"c"}, "state": {"other"}}.Encode(), nil)
	req.AddCookie(cookie)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback with another state: %d, want 400", resp.StatusCode)
	}
	// An error code from the provider is shown; anything else is not.
	resp, err = c.Get(srv.URL + Path + "callback?error=access_denied")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("callback with access_denied: %d, want 403", resp.StatusCode)
	}
	resp, err = c.Get(srv.URL + Path + "callback?error=access_denied%3Cb%3E")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body.String(), "access_denied") ||
		!strings.Contains(body.String(), "refused the login: ?.") {
		t.Errorf("callback with an error: %d\n%s", resp.StatusCode, body.String())
	}
}

func TestClaims(t *testing.T) {
	got := claims(map[string]json.RawMessage{"sub": json.RawMessage(`"abc"`), "iat": json.RawMessage(`0`),
		"groups": json.RawMessage(`["a","b"]`), "email_verified": json.RawMessage(`true`)})
	want := []claim{{"email_verified", "true"}, {"groups", `["a","b"]`}, {"iat", "0 (1970-01-01T00:00:00Z)"}, {"sub", "abc"}}
	if len(got) != len(want) {
		t.Fatalf("claims = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("claim %d = %v, want %v", i, got[i], want[i])
		}
	}
}
