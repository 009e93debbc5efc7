package main

import (
	"regexp"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// TestCLIServiceClientAndKeys: "service add" makes the OpenID Connect
// client (secret shown once, in the kind's setup snippet), "service show"
// prints the snippet exactly as INTEGRATIONS.md gives it, and "keys rotate"
// publishes new keys.
func TestCLIServiceClientAndKeys(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := ""
			if backend == "postgres" {
				dsn = testenv.Postgres(t)
			}
			cliEnv(t, dsn)
			t.Setenv("SESAME_PUBLIC_URL", "https://sso.example.org")
			mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "referent@example.org")

			out := mustRun(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud", "--url", "https://cloud.example.org/")
			m := regexp.MustCompile(`Client secret \(shown only now[^)]*\): ([A-Za-z0-9_-]{43})\n`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no secret in:\n%s", out)
			}
			want := `occ user_oidc:provider sesame --clientid=le-beta.nextcloud --clientsecret=` + m[1] + ` \
  --discoveryuri=https://sso.example.org/.well-known/openid-configuration \
  --scope="openid email profile" --unique-uid=0 --mapping-uid=preferred_username \
  --group-provisioning=1 --send-id-token-hint=1
`
			if !strings.Contains(out, want) {
				t.Errorf("nextcloud snippet:\n%s\nwant:\n%s", out, want)
			}
			out = mustRun(t, "service", "show", "le-beta", "nextcloud")
			if strings.Contains(out, m[1]) || !strings.Contains(out, "--clientsecret=SECRET") {
				t.Errorf("show leaks or lacks the placeholder:\n%s", out)
			}

			out = mustRun(t, "service", "add", "le-beta", "wordpress", "--name", "Site", "--url", "https://site.example.org")
			for _, line := range []string{
				"define('OIDC_CLIENT_ID', 'le-beta.wordpress');",
				"define('OIDC_CLIENT_SCOPE', 'openid email profile');",
				"define('OIDC_ENDPOINT_LOGIN_URL', 'https://sso.example.org/authorize');",
				"define('OIDC_ENDPOINT_TOKEN_URL', 'https://sso.example.org/token');",
				"define('OIDC_ENDPOINT_USERINFO_URL', 'https://sso.example.org/userinfo');",
				"define('OIDC_ENDPOINT_LOGOUT_URL', 'https://sso.example.org/logout');",
				"define('OIDC_LINK_EXISTING_USERS', true);",
			} {
				if !strings.Contains(out, line+"\n") {
					t.Errorf("wordpress snippet lacks %q:\n%s", line, out)
				}
			}
			out = mustRun(t, "service", "add", "le-beta", "paheko", "--name", "Compta", "--url", "https://compta.example.org",
				"--paheko-category", "Membre=1")
			for _, line := range []string{"const OIDC_CLIENT_URL = 'https://sso.example.org';", "const OIDC_CLIENT_ID = 'le-beta.paheko';",
				"const OIDC_CLIENT_MATCH_EMAIL = true;"} {
				if !strings.Contains(out, line+"\n") {
					t.Errorf("paheko snippet lacks %q:\n%s", line, out)
				}
			}
			out = mustRun(t, "service", "show", "le-beta", "paheko", "--new-secret")
			if strings.Contains(out, "'SECRET'") || !regexp.MustCompile(`OIDC_CLIENT_SECRET = '[A-Za-z0-9_-]{43}'`).MatchString(out) {
				t.Errorf("new secret not printed:\n%s", out)
			}

			// Client options and their checks.
			mustRun(t, "service", "add", "le-beta", "generic", "--name", "App", "--url", "https://app.example.org",
				"--redirect-uri", "https://app.example.org/cb?x=1", "--auth-method", "client_secret_post", "--signing-alg", "ES256")
			for _, bad := range [][]string{
				{"--redirect-uri", "javascript:alert(1)"},
				{"--redirect-uri", "http://localhost:80@evil.example"},
				{"--redirect-uri", "https://app.example.org/a/../b"},
				{"--post-logout-uri", "data:text/html,x"},
				{"--auth-method", "none"},
				{"--signing-alg", "HS256"},
			} {
				args := append([]string{"service", "add", "le-beta", "generic", "--name", "Bad", "--url", "https://bad.example.org", "--slug", "bad"}, bad...)
				wantExit(t, 2, args...)
			}
			wantExit(t, 2, "service", "show", "le-beta", "nope")

			// Keys: the first rotation on an empty store starts at once;
			// the next one publishes ahead.
			out = mustRun(t, "keys", "rotate")
			if strings.Count(out, "New key ") != 2 {
				t.Errorf("rotate:\n%s", out)
			}
			mustRun(t, "keys", "rotate", "--publish-delay", "5m", "--keep", "1h")
			out = mustRun(t, "keys", "list")
			if strings.Count(out, "RS256-") != 2 || strings.Count(out, "ES256-") != 2 {
				t.Errorf("keys list:\n%s", out)
			}
		})
	}
}
