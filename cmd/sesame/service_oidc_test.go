package main

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sesame/internal/apps"
	"sesame/internal/store"
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

// snippetIssuer and snippetSecret are what the snippet tests print.
const (
	snippetIssuer = "https://sso.example.org"
	snippetSecret = "s3cr3t-Abc_0123456789abcdefghijklmnopqrstuvw"
)

// snippet prints the setup of a service of kind with the kind's defaults.
func snippet(kind store.ServiceKind, base string) string {
	s := store.Service{Kind: kind, ClientID: "le-beta." + string(kind), BaseURL: base}
	kindDefaults(&s)
	var b strings.Builder
	writeClientSetup(&b, snippetIssuer, s, snippetSecret)
	return b.String()
}

// userOIDCOptions are the options of "occ user_oidc:provider", from
// nextcloud/user_oidc lib/Command/UpsertProvider.php (configure() and
// EXTRA_OPTIONS, read at commit 0590bb1a1f6084a134423d4a3b5e88943552dec4),
// plus the --output option every occ command inherits.
var userOIDCOptions = []string{"clientid", "clientsecret", "clientsecret-file", "clientsecret-env", "discoveryuri",
	"endsessionendpointuri", "postlogouturi", "scope", "output",
	"unique-uid", "use-private-key-jwt", "check-bearer", "bearer-provisioning", "send-id-token-hint",
	"mapping-display-name", "mapping-email", "mapping-quota", "mapping-uid", "extra-claims", "mapping-language",
	"mapping-locale", "mapping-website", "mapping-avatar", "mapping-twitter", "mapping-fediverse",
	"mapping-organisation", "mapping-role", "mapping-headline", "mapping-biography", "mapping-phone",
	"mapping-gender", "mapping-pronouns", "mapping-birthdate", "mapping-address", "mapping-street_address",
	"mapping-postal_code", "mapping-locality", "mapping-region", "mapping-country", "group-provisioning",
	"group-whitelist-regex", "group-restrict-login-to-whitelist", "mapping-groups", "entraid-group-names",
	"resolve-nested-claims"}

// occArgs runs a Nextcloud snippet in bash, with occ a function that
// prints its arguments: the words occ gets once the hoster's shell has
// split the pasted lines.
func occArgs(t *testing.T, snippet string) []string {
	t.Helper()
	out, err := exec.Command("bash", "-c", "set -eu\nocc() { printf '%s\\0' \"$@\"; }\n"+snippet).Output()
	if err != nil {
		t.Fatalf("bash ran the snippet with %v:\n%s", err, snippet)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// The occ command, as the shell splits it, names only options that
// user_oidc's UpsertProvider defines, with the values INTEGRATIONS.md asks
// for.
func TestNextcloudSnippetOptions(t *testing.T) {
	out := snippet(store.KindNextcloud, "https://cloud.example.org")
	args := occArgs(t, out)
	if len(args) < 2 || args[0] != "user_oidc:provider" || args[1] != "sesame" {
		t.Fatalf("occ %q", args)
	}
	got := map[string]string{}
	for _, a := range args[2:] {
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !ok {
			t.Errorf("argument %q is not --option=value", a)
			continue
		}
		if !slices.Contains(userOIDCOptions, name) {
			t.Errorf("occ user_oidc:provider has no option --%s", name)
		}
		if _, dup := got[name]; dup {
			t.Errorf("--%s given twice", name)
		}
		got[name] = value
	}
	want := map[string]string{
		"clientid": "le-beta.nextcloud", "clientsecret": snippetSecret,
		"discoveryuri": snippetIssuer + "/.well-known/openid-configuration", "scope": "openid email profile",
		"unique-uid": "0", "mapping-uid": "preferred_username", "group-provisioning": "1", "send-id-token-hint": "1",
	}
	if !maps.Equal(got, want) {
		t.Errorf("occ options:\n got %v\nwant %v\nfrom:\n%s", got, want, out)
	}
	// A value a shell would split or expand is quoted.
	for _, v := range []string{"plain", "a b", "it's", `$(touch /tmp/x)`, "`id`", `a\b`, `"q"`, "*", ""} {
		if got := occArgs(t, "occ "+apps.ShellWord(v)); len(got) != 1 || got[0] != v {
			t.Errorf("shellWord(%q) reads back as %q", v, got)
		}
	}
}

// php returns the php command line interpreter, or skips (fails when
// components are required).
func php(t *testing.T) string {
	t.Helper()
	p, ok := testenv.LookBinary("php")
	if !ok {
		testenv.Missing(t, "php (php-cli) to run the WordPress and Paheko snippets")
	}
	return p
}

// runPHP writes files into a fresh directory and runs main.php there with
// php-cli, returning its standard output.
func runPHP(t *testing.T, files map[string]string) string {
	t.Helper()
	bin := php(t)
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-d", "display_errors=stderr", "-d", "error_reporting=-1", "main.php")
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("php: %v\n%s\nfiles: %v", err, stderr.String(), files)
	}
	return string(out)
}

// The wp-config.php lines, pasted into wp-config.php, give the plugin
// OpenID Connect Generic the settings it reads (its bootstrap() in
// openid-connect-generic.php: defined(CONST) ? CONST : default, intval for
// the flags), and the snippet says the plugin comes first.
func TestWordPressSnippetReadByThePlugin(t *testing.T) {
	out := snippet(store.KindWordPress, "https://site.example.org")
	for _, want := range []string{`plugin "OpenID Connect Generic"`, "installed and", "activated first", "wp-config.php"} {
		if !strings.Contains(out, want) {
			t.Errorf("the snippet does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<?php") {
		t.Errorf("the wp-config.php lines open a second PHP tag:\n%s", out)
	}
	got := runPHP(t, map[string]string{
		// wp-config.php is a PHP file in the global namespace; the lines go
		// inside it.
		"wp-config.php": "<?php\n" + out + "\n/* That's all, stop editing! Happy publishing. */\n",
		"main.php": `<?php
require __DIR__ . '/wp-config.php';
echo json_encode([
	'login_type'               => defined('OIDC_LOGIN_TYPE') ? OIDC_LOGIN_TYPE : 'button',
	'client_id'                => defined('OIDC_CLIENT_ID') ? OIDC_CLIENT_ID : '',
	'client_secret'            => defined('OIDC_CLIENT_SECRET') ? OIDC_CLIENT_SECRET : '',
	'scope'                    => defined('OIDC_CLIENT_SCOPE') ? OIDC_CLIENT_SCOPE : '',
	'endpoint_login'           => defined('OIDC_ENDPOINT_LOGIN_URL') ? OIDC_ENDPOINT_LOGIN_URL : '',
	'endpoint_userinfo'        => defined('OIDC_ENDPOINT_USERINFO_URL') ? OIDC_ENDPOINT_USERINFO_URL : '',
	'endpoint_token'           => defined('OIDC_ENDPOINT_TOKEN_URL') ? OIDC_ENDPOINT_TOKEN_URL : '',
	'endpoint_end_session'     => defined('OIDC_ENDPOINT_LOGOUT_URL') ? OIDC_ENDPOINT_LOGOUT_URL : '',
	'link_existing_users'      => defined('OIDC_LINK_EXISTING_USERS') ? intval(OIDC_LINK_EXISTING_USERS) : 0,
	'create_if_does_not_exist' => defined('OIDC_CREATE_IF_DOES_NOT_EXIST') ? intval(OIDC_CREATE_IF_DOES_NOT_EXIST) : 1,
]);
`})
	var settings map[string]any
	if err := json.Unmarshal([]byte(got), &settings); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	want := map[string]any{
		"login_type": "button", "client_id": "le-beta.wordpress", "client_secret": snippetSecret,
		"scope": "openid email profile", "endpoint_login": snippetIssuer + "/authorize",
		"endpoint_userinfo": snippetIssuer + "/userinfo", "endpoint_token": snippetIssuer + "/token",
		"endpoint_end_session": snippetIssuer + "/logout", "link_existing_users": float64(1),
		"create_if_does_not_exist": float64(1),
	}
	if !maps.Equal(settings, want) {
		t.Errorf("the plugin reads:\n%v\nwant:\n%v", settings, want)
	}
}

// pahekoReader is what Paheko does with config.local.php (its init.php, in
// namespace Paheko): require it, then give every constant it did not define
// in namespace Paheko its default. It prints what Paheko's OIDC login then
// reads.
const pahekoReader = `<?php
namespace Paheko;

require __DIR__ . '/config.local.php';
$configured = defined('Paheko\OIDC_CLIENT_URL');
foreach (['OIDC_CLIENT_URL' => null, 'OIDC_CLIENT_ID' => null, 'OIDC_CLIENT_SECRET' => null,
	'OIDC_CLIENT_BUTTON' => null, 'OIDC_CLIENT_MATCH_EMAIL' => true] as $name => $default) {
	if (!defined('Paheko\\' . $name)) {
		define('Paheko\\' . $name, $default);
	}
}
echo json_encode(['configured' => $configured, 'url' => OIDC_CLIENT_URL, 'id' => OIDC_CLIENT_ID,
	'secret' => OIDC_CLIENT_SECRET, 'button' => OIDC_CLIENT_BUTTON, 'match_email' => OIDC_CLIENT_MATCH_EMAIL]);
`

// The Paheko snippet is a whole config.local.php head: Paheko, which reads
// the constants in its namespace, gets every value. The same constants
// without "namespace Paheko;" are silently missed, as observed live: the
// test proves its own reader would catch a snippet without the line.
func TestPahekoSnippetReadByPaheko(t *testing.T) {
	out := snippet(store.KindPaheko, "https://compta.example.org")
	if !strings.HasPrefix(out, "<?php\nnamespace Paheko;\n") {
		t.Fatalf("the file does not start with <?php then namespace Paheko;:\n%s", out)
	}
	for _, want := range []string{"config.local.php", "root of Paheko's installation", "config.dist.php"} {
		if !strings.Contains(out, want) {
			t.Errorf("the snippet does not say %q:\n%s", want, out)
		}
	}
	read := func(file string) map[string]any {
		t.Helper()
		got := runPHP(t, map[string]string{"config.local.php": file, "main.php": pahekoReader})
		var m map[string]any
		if err := json.Unmarshal([]byte(got), &m); err != nil {
			t.Fatalf("%v: %s", err, got)
		}
		return m
	}
	want := map[string]any{"configured": true, "url": snippetIssuer, "id": "le-beta.paheko", "secret": snippetSecret,
		"button": "Se connecter avec sesame", "match_email": true}
	if got := read(out); !maps.Equal(got, want) {
		t.Errorf("Paheko reads:\n%v\nwant:\n%v", got, want)
	}
	without := strings.Replace(out, "namespace Paheko;\n", "", 1)
	if got := read(without); got["configured"] != false || got["url"] != nil || got["id"] != nil {
		t.Errorf("without the namespace line Paheko should miss the constants, yet reads %v", got)
	}
}

// phpString's literals read back exactly, whatever they hold.
func TestPHPString(t *testing.T) {
	values := []string{"plain", "it's", `back\slash`, `ends with \`, `\'`, "$var {$x}", "line\nbreak", "é ü"}
	var main strings.Builder
	main.WriteString("<?php\necho json_encode([")
	for _, v := range values {
		main.WriteString(apps.PHPString(v) + ", ")
	}
	main.WriteString("]);\n")
	var got []string
	if err := json.Unmarshal([]byte(runPHP(t, map[string]string{"main.php": main.String()})), &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, values) {
		t.Errorf("PHP read %q, want %q", got, values)
	}
}
