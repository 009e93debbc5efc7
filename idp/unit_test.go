package idp

import (
	"net/url"
	"testing"
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
