package idp

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"sesame/internal/store"
)

func TestAppendQuery(t *testing.T) {
	v := url.Values{"code": {"C"}, "state": {"S"}}
	for in, want := range map[string]string{
		"https://nc.example/index.php/apps/user_oidc/code":                           "https://nc.example/index.php/apps/user_oidc/code?code=C&state=S",
		"https://paheko.example/admin/login.php?oidc":                                "https://paheko.example/admin/login.php?oidc&code=C&state=S",
		"https://wp.example/wp-admin/admin-ajax.php?action=openid-connect-authorize": "https://wp.example/wp-admin/admin-ajax.php?action=openid-connect-authorize&code=C&state=S",
		"https://x.example/cb?":                                                      "https://x.example/cb?code=C&state=S",
	} {
		if got := appendQuery(in, v); got != want {
			t.Errorf("appendQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseLenient(t *testing.T) {
	cases := []struct {
		name, raw string
		want      map[string]string
	}{
		{"encoded", "client_id=nc&post_logout_redirect_uri=https%3A%2F%2Fnc.example%2Fa%3Fb%3D1%26c%3D2&state=x",
			map[string]string{"client_id": "nc", "post_logout_redirect_uri": "https://nc.example/a?b=1&c=2", "state": "x"}},
		{"unencoded with query", "client_id=nc&post_logout_redirect_uri=https://nc.example/a?b=1&c=2&state=x",
			map[string]string{"client_id": "nc", "post_logout_redirect_uri": "https://nc.example/a?b=1&c=2", "state": "x"}},
		{"wordpress", "id_token_hint=a.b.c&post_logout_redirect_uri=https://wp.example/wp-login.php?loggedout=true&wp_lang=en_US",
			map[string]string{"id_token_hint": "a.b.c", "post_logout_redirect_uri": "https://wp.example/wp-login.php?loggedout=true&wp_lang=en_US"}},
		{"stray percent kept", "post_logout_redirect_uri=https://x.example/100%&client_id=a",
			map[string]string{"post_logout_redirect_uri": "https://x.example/100%", "client_id": "a"}},
		{"unknown leading", "foo=bar&client_id=a", map[string]string{"client_id": "a"}},
		{"first wins", "client_id=a&client_id=b", map[string]string{"client_id": "a"}},
		{"empty", "", map[string]string{}},
	}
	for _, c := range cases {
		got := parseLenient(c.raw)
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		for k, v := range c.want {
			if got.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got.Get(k), v)
			}
		}
	}
}

func TestValidateRedirectURI(t *testing.T) {
	good := []string{
		"https://nc.example/index.php/apps/user_oidc/code",
		"https://paheko.example/admin/login.php?oidc",
		"https://wp.example/wp-admin/admin-ajax.php?action=openid-connect-authorize",
		"https://wp.example/wp-login.php?loggedout=true&wp_lang=fr_FR",
		"http://localhost:8080/cb",
		"http://127.0.0.1/cb",
	}
	bad := []string{
		"", "/relative", "nc.example/cb", "http://nc.example/cb", "ftp://nc.example/cb",
		"javascript:alert(1)", "data:text/html,x", "https://nc.example/cb#frag",
		"http://localhost:80@evil.example", "https://user:pw@nc.example/cb",
		"https://nc.example/a/../b", "https://nc.example/a/%2e%2e/b", "https://nc.example/a%252e%252e/b",
		"https://nc.example/a%2fb", "https://nc.example\\evil", "https://nc.example/a b",
		"https:///cb",
	}
	for _, u := range good {
		if err := ValidateRedirectURI(u); err != nil {
			t.Errorf("ValidateRedirectURI(%q) = %v", u, err)
		}
	}
	for _, u := range bad {
		if err := ValidateRedirectURI(u); err == nil {
			t.Errorf("ValidateRedirectURI(%q) accepted it", u)
		}
	}
}

func TestVerifyPKCE(t *testing.T) {
	v, ch := pkce()
	if !verifyPKCE(ch, v) {
		t.Error("a right verifier was refused")
	}
	if verifyPKCE(ch, v+"x") || verifyPKCE(ch, "") || verifyPKCE(ch, ch) || verifyPKCE(ch, "short") {
		t.Error("a wrong verifier passed")
	}
}

// Client secrets are stored as SHA-256 and checked in constant time; one
// stored as argon2id by an earlier version still works once and is then
// replaced by its SHA-256.
func TestClientSecretStorage(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if !strings.HasPrefix(f.gen.ClientSecretHash, "$sha256$") {
		t.Fatalf("stored %q", f.gen.ClientSecretHash)
	}
	if fast, ok := fastClientSecret(f.gen.ClientSecretHash, secretGen); !fast || !ok {
		t.Error("the right secret does not match its hash")
	}
	if _, ok := fastClientSecret(f.gen.ClientSecretHash, secretGen+"x"); ok {
		t.Error("a wrong secret matches")
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}
	if st, body := f.tokenReq(f.gen.ClientID, secretGen+"x", true, refresh); st != 401 || errCode(body) != "invalid_client" {
		t.Errorf("wrong secret: %d %v", st, body)
	}
	if st, body := f.tokenReq("no-such-client", secretGen, true, refresh); st != 401 || errCode(body) != "invalid_client" {
		t.Errorf("unknown client: %d %v", st, body)
	}

	legacy := f.hash(secretGen) // argon2id, as sesame stored secrets before
	if _, err := f.st.UpdateService(ctx, f.gen.ID, func(s *store.Service) error { s.ClientSecretHash = legacy; return nil }); err != nil {
		t.Fatal(err)
	}
	if st, body := f.tokenReq(f.gen.ClientID, secretGen+"x", true, refresh); st != 401 || errCode(body) != "invalid_client" {
		t.Errorf("wrong secret against an argon2id hash: %d %v", st, body)
	}
	if svc, _ := f.st.GetService(ctx, f.gen.ID); svc.ClientSecretHash != legacy {
		t.Fatal("a wrong secret replaced the stored hash")
	}
	// The right secret authenticates (the grant then fails: the refresh
	// token is made up) and the stored hash becomes its SHA-256.
	if st, body := f.tokenReq(f.gen.ClientID, secretGen, true, refresh); st != 400 || errCode(body) != "invalid_grant" {
		t.Errorf("right secret against an argon2id hash: %d %v", st, body)
	}
	svc, err := f.st.GetService(ctx, f.gen.ID)
	if err != nil {
		t.Fatal(err)
	}
	if svc.ClientSecretHash != HashClientSecret(secretGen) {
		t.Errorf("after a good authentication the stored hash is %q", svc.ClientSecretHash)
	}
}
