package config_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"sesame/internal/config"
)

// clearEnv unsets every SESAME_* variable that names a key for the test, so
// that the machine's environment does not leak into it.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, config.EnvPrefix) && !strings.HasPrefix(name, "SESAME_TEST_") && name != "SESAME_REQUIRE_SERVICES" {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sesame.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func keysOf(ps []config.Problem) []string {
	var ks []string
	for _, p := range ps {
		ks = append(ks, p.Key)
	}
	return ks
}

func TestDefaults(t *testing.T) {
	clearEnv(t)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	want := config.Default()
	want.Resolve()
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("Load(\"\") = %+v, want %+v", cfg, want)
	}
	checks := map[string][2]any{
		"data_dir":          {cfg.DataDir, "./data"},
		"store.sqlite.path": {cfg.Store.SQLite.Path, filepath.Join("data", "sesame.db")},
		"secrets.key_file":  {cfg.Secrets.KeyFile, filepath.Join("data", "secret.key")},
		"mail.file_dir":     {cfg.Mail.FileDir, filepath.Join("data", "mail")},
		"listen":            {cfg.Listen, "127.0.0.1:8080"},
		"tokens.activate":   {cfg.Tokens.ActivateTTL, 168 * time.Hour},
		"import.max_bytes":  {cfg.Import.MaxBytes, 5 << 20},
		"ldap enabled":      {cfg.LDAPEnabled(), false},
		// One argon2id hash per CPU, as docs/operations.md says: more add
		// no throughput and take CPU from the requests answered meanwhile.
		"password.max_concurrent_hashes": {cfg.Password.MaxConcurrentHashes, runtime.NumCPU()},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
}

// envValue gives, for a key's type, a valid value different from the
// default, as the environment spells it and as the field holds it.
func envValue(k config.Key) (string, any) {
	switch k.Type {
	case reflect.TypeFor[time.Duration]():
		return "3m7s", 3*time.Minute + 7*time.Second
	case reflect.TypeFor[int]():
		return "77", 77
	case reflect.TypeFor[bool]():
		return "true", true
	}
	return "env-" + k.Name, "env-" + k.Name
}

func field(cfg *config.Config, key string) any {
	v := reflect.ValueOf(cfg).Elem()
	for _, part := range strings.Split(key, ".") {
		t := v.Type()
		found := false
		for i := range t.NumField() {
			if t.Field(i).Tag.Get("key") == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			panic("no field for " + key)
		}
	}
	return v.Interface()
}

// TestEveryKeyOverriddenByEnv sets, for each key in turn, its SESAME_*
// variable over a file that also sets it, and checks the environment wins.
func TestEveryKeyOverriddenByEnv(t *testing.T) {
	keys := config.Keys()
	if len(keys) < 40 {
		t.Fatalf("only %d keys found", len(keys))
	}
	file := writeFile(t, "listen: 127.0.0.1:9999\nlog:\n  level: debug\njobs:\n  workers: 3\nldap:\n  timeout: 4s\n")
	seen := map[string]string{}
	for _, k := range keys {
		t.Run(k.Name, func(t *testing.T) {
			clearEnv(t)
			if other, dup := seen[k.Env]; dup {
				t.Fatalf("%s and %s share the variable %s", k.Name, other, k.Env)
			}
			seen[k.Env] = k.Name
			want := "SESAME_" + strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_"))
			if k.Env != want {
				t.Fatalf("Env = %s, want %s", k.Env, want)
			}
			s, v := envValue(k)
			t.Setenv(k.Env, s)
			cfg, _ := config.Load(file) // the odd values need not validate
			if got := field(cfg, k.Name); got != v {
				t.Fatalf("with %s=%s, %s = %#v, want %#v", k.Env, s, k.Name, got, v)
			}
		})
	}
	if _, ok := seen["SESAME_STORE_POSTGRES_DSN"]; !ok {
		t.Error("store.postgres.dsn is not bound to SESAME_STORE_POSTGRES_DSN")
	}
}

func TestFileValues(t *testing.T) {
	clearEnv(t)
	file := writeFile(t, `
data_dir: /var/lib/sesame
public_url: https://sso.example.org
listen: 0.0.0.0:8443
store:
  driver: postgres
  postgres:
    dsn: postgres://sesame:hunter2@db/sesame
jobs:
  lease: 90s
tokens:
  activate_ttl: 72h
mail:
  driver: smtp
  smtp:
    host: smtp.example.org
    port: 465
    tls: tls
    username: sesame
    password: pw
ldap:
  url: ldaps://ldap.example.org
  bind_dn: cn=sesame,dc=example,dc=org
  bind_password: pw
  base_dn: dc=example,dc=org
`)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Postgres.DSN != "postgres://sesame:hunter2@db/sesame" || cfg.Jobs.Lease != 90*time.Second ||
		cfg.Tokens.ActivateTTL != 72*time.Hour || cfg.Mail.SMTP.Port != 465 || !cfg.LDAPEnabled() ||
		cfg.Store.SQLite.Path != "/var/lib/sesame/sesame.db" {
		t.Fatalf("unexpected config: %+v", cfg)
	}
	if s := cfg.Summary(); strings.Contains(s, "hunter2") || !strings.Contains(s, "postgres") {
		t.Fatalf("summary shows the password or misses the driver:\n%s", s)
	}
}

func TestUnknownKeyInFile(t *testing.T) {
	clearEnv(t)
	file := writeFile(t, "listen: 127.0.0.1:8080\nlistn: x\nstore:\n  sqlite:\n    pth: a.db\nldap:\n  pageSize: 3\n")
	_, err := config.Load(file)
	ps := config.Problems(err)
	want := []string{"ldap.pagesize", "listn", "store.sqlite.pth"}
	if !slices.Equal(keysOf(ps), want) {
		t.Fatalf("problems = %v, want keys %v", ps, want)
	}
	if !strings.Contains(err.Error(), "ldap.pagesize: unknown key (did you mean ldap.page_size?)") {
		t.Errorf("no suggestion in %q", err)
	}
}

func TestSectionGivenAValue(t *testing.T) {
	clearEnv(t)
	_, err := config.Load(writeFile(t, "log: json\n"))
	if ps := config.Problems(err); len(ps) != 1 || ps[0].Key != "log" {
		t.Fatalf("problems = %v", ps)
	}
	// An empty section is fine.
	if _, err := config.Load(writeFile(t, "ldap:\n")); err != nil {
		t.Fatalf("empty section: %v", err)
	}
}

func TestUnknownEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("SESAME_LISTNE", "127.0.0.1:1")
	t.Setenv("SESAME_TEST_WHATEVER", "allowed")
	t.Setenv("SESAME_CONFIG", "")
	_, err := config.Load("")
	if ps := config.Problems(err); !slices.Equal(keysOf(ps), []string{"SESAME_LISTNE"}) {
		t.Fatalf("problems = %v", ps)
	}
}

func TestThreeMistakesThreeErrors(t *testing.T) {
	clearEnv(t)
	file := writeFile(t, "listen: abc\nlog:\n  level: loud\njobs:\n  lease: forever\n")
	_, err := config.Load(file)
	ps := config.Problems(err)
	if !slices.Equal(sorted(keysOf(ps)), []string{"jobs.lease", "listen", "log.level"}) {
		t.Fatalf("problems = %v", ps)
	}
	for _, want := range []string{`listen: "abc" is not host:port`, `log.level: "loud" is not one of`, `jobs.lease: "forever" is not a duration`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func TestEnvTypeErrorNamesVariable(t *testing.T) {
	clearEnv(t)
	t.Setenv("SESAME_JOBS_WORKERS", "many")
	_, err := config.Load("")
	if ps := config.Problems(err); len(ps) != 1 || ps[0].Key != "SESAME_JOBS_WORKERS" {
		t.Fatalf("problems = %v", ps)
	}
}

func TestValidate(t *testing.T) {
	base := func() *config.Config { c := config.Default(); c.Resolve(); return c }
	cases := []struct {
		name string
		edit func(*config.Config)
		keys []string
	}{
		{"valid", func(*config.Config) {}, nil},
		{"public url query", func(c *config.Config) { c.PublicURL = "https://x.org/?a=b" }, []string{"public_url"}},
		{"public url relative", func(c *config.Config) { c.PublicURL = "/sso" }, []string{"public_url"}},
		{"public url ftp", func(c *config.Config) { c.PublicURL = "ftp://x.org" }, []string{"public_url"}},
		{"bad port", func(c *config.Config) { c.Listen = "127.0.0.1:99999" }, []string{"listen"}},
		{"postgres without dsn", func(c *config.Config) { c.Store.Driver = "postgres" }, []string{"store.postgres.dsn"}},
		{"unknown driver", func(c *config.Config) { c.Store.Driver = "mysql" }, []string{"store.driver"}},
		{"backoff", func(c *config.Config) { c.Jobs.BackoffMax = time.Second }, []string{"jobs.backoff_max"}},
		{"zero workers", func(c *config.Config) { c.Jobs.Workers = 0 }, []string{"jobs.workers"}},
		{"sink workers", func(c *config.Config) { c.Jobs.SinkWorkers = "ldap=2, mail=8\noidc=1" }, nil},
		{"sink workers garbage", func(c *config.Config) { c.Jobs.SinkWorkers = "ldap=2, mail" }, []string{"jobs.sink_workers"}},
		{"sink workers zero", func(c *config.Config) { c.Jobs.SinkWorkers = "ldap=0" }, []string{"jobs.sink_workers"}},
		{"sink workers kind", func(c *config.Config) { c.Jobs.SinkWorkers = "ldap.person=2" }, []string{"jobs.sink_workers"}},
		{"short password", func(c *config.Config) { c.Password.MinLength = 4 }, []string{"password.min_length"}},
		{"import rows", func(c *config.Config) { c.Import.MaxRows = 0 }, []string{"import.max_rows"}},
		{"bad from", func(c *config.Config) { c.Mail.From = "not an address" }, []string{"mail.from"}},
		{"smtp without host", func(c *config.Config) { c.Mail.Driver = "smtp" }, []string{"mail.smtp.host"}},
		{"smtp none remote", func(c *config.Config) {
			c.Mail.Driver, c.Mail.SMTP.Host, c.Mail.SMTP.TLS = "smtp", "smtp.example.org", "none"
		}, []string{"mail.smtp.tls"}},
		{"smtp none loopback", func(c *config.Config) {
			c.Mail.Driver, c.Mail.SMTP.Host, c.Mail.SMTP.TLS = "smtp", "127.0.0.1", "none"
		}, nil},
		{"smtp two passwords", func(c *config.Config) {
			c.Mail.Driver, c.Mail.SMTP.Host, c.Mail.SMTP.Username = "smtp", "localhost", "u"
			c.Mail.SMTP.Password, c.Mail.SMTP.PasswordFile = "p", "/run/p"
		}, []string{"mail.smtp.password_file"}},
		{"ldap incomplete", func(c *config.Config) { c.LDAP.URL = "ldap://127.0.0.1:389" },
			[]string{"ldap.base_dn", "ldap.bind_dn", "ldap.bind_password"}},
		{"ldap bad url", func(c *config.Config) {
			c.LDAP = config.LDAP{URL: "http://x", BindDN: "cn=a", BindPassword: "p", BaseDN: "dc=x",
				PageSize: 10, Timeout: time.Second, PasswordScheme: "ARGON2"}
		}, []string{"ldap.url"}},
		{"ldaps with starttls", func(c *config.Config) {
			c.LDAP = config.LDAP{URL: "ldaps://x", StartTLS: true, BindDN: "cn=a", BindPassword: "p", BaseDN: "dc=x",
				PageSize: 10, Timeout: time.Second, PasswordScheme: "ARGON2"}
		}, []string{"ldap.start_tls"}},
		{"ldap without the argon2 module", func(c *config.Config) {
			c.LDAP = config.LDAP{URL: "ldap://x", BindDN: "cn=a", BindPassword: "p", BaseDN: "dc=x",
				PageSize: 10, Timeout: time.Second, PasswordScheme: "NONE"}
		}, nil},
		{"ldap unknown password scheme", func(c *config.Config) {
			c.LDAP = config.LDAP{URL: "ldap://x", BindDN: "cn=a", BindPassword: "p", BaseDN: "dc=x",
				PageSize: 10, Timeout: time.Second, PasswordScheme: "SSHA"}
		}, []string{"ldap.password_scheme"}},
		{"ldap off ignores the rest", func(c *config.Config) { c.LDAP.PageSize = -1 }, nil},
		{"trusted proxies", func(c *config.Config) {
			c.HTTP.TrustedProxies = "127.0.0.1, 10.0.0.0/8 ::1,fd00::/8\n::ffff:192.168.0.0/112"
		}, nil},
		{"trusted proxy garbage", func(c *config.Config) {
			c.HTTP.TrustedProxies = "127.0.0.1, nginx, 10.0.0.0/33"
		}, []string{"http.trusted_proxies", "http.trusted_proxies"}},
		{"trusted proxy everywhere", func(c *config.Config) { c.HTTP.TrustedProxies = "0.0.0.0/0" },
			[]string{"http.trusted_proxies"}},
		{"shared limits on", func(c *config.Config) { c.Replicas.SharedLimits = "on" }, nil},
		{"shared limits garbage", func(c *config.Config) { c.Replicas.SharedLimits = "yes" }, []string{"replicas.shared_limits"}},
		{"no key reload", func(c *config.Config) { c.Replicas.KeyReload = 0 }, []string{"replicas.key_reload"}},
		{"metrics", func(c *config.Config) { c.Metrics.Listen = "127.0.0.1:9090" }, nil},
		{"metrics any port", func(c *config.Config) { c.Listen, c.Metrics.Listen = "127.0.0.1:0", "127.0.0.1:0" }, nil},
		{"metrics garbage", func(c *config.Config) { c.Metrics.Listen = "9090" }, []string{"metrics.listen"}},
		{"metrics bad port", func(c *config.Config) { c.Metrics.Listen = "127.0.0.1:70000" }, []string{"metrics.listen"}},
		{"metrics on the public listener", func(c *config.Config) { c.Metrics.Listen = c.Listen }, []string{"metrics.listen"}},
		{"metrics on every address of the public port", func(c *config.Config) {
			c.Listen, c.Metrics.Listen = "0.0.0.0:8080", "127.0.0.1:8080"
		}, []string{"metrics.listen"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(c)
			err := c.Validate()
			if got := keysOf(config.Problems(err)); !slices.Equal(sorted(got), sorted(tc.keys)) {
				t.Fatalf("problems = %v, want keys %v", err, tc.keys)
			}
		})
	}
}

// TestListenWarnings: a loopback public_url that listen does not serve is
// valid but warned about (emailed links would point where sesame does not
// answer); a public_url on another host is a reverse proxy's business.
func TestListenWarnings(t *testing.T) {
	for _, c := range []struct {
		listen, public string
		warn           string // "" for none
	}{
		{"127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"127.0.0.1:8080", "http://localhost:8080/", ""},
		{"localhost:8080", "http://127.0.0.1:8080", ""},
		{"0.0.0.0:8080", "http://127.0.0.1:8080", ""},
		{"[::]:8080", "http://[::1]:8080", ""},
		{":8080", "http://localhost:8080", ""},
		{"[::1]:8080", "http://[::1]:8080/sso", ""},
		{"127.0.0.1:80", "http://127.0.0.1", ""},
		{"127.0.0.1:443", "https://localhost", ""},
		{"127.0.0.1:9090", "https://sso.example.org", ""}, // behind a proxy
		{"0.0.0.0:9090", "http://192.0.2.10:8080", ""},    // not loopback: cannot tell
		{"127.0.0.1:9090", "http://127.0.0.1:8080", "port 9090 differs from public_url's (8080)"},
		{"127.0.0.1:8080", "http://127.0.0.1", "port 8080 differs from public_url's (80)"},
		{"127.0.0.1:0", "http://127.0.0.1:8080", "port 0 differs"},
		{"192.0.2.10:8080", "http://127.0.0.1:8080", "address 192.0.2.10 does not serve public_url's host 127.0.0.1"},
		{"127.0.0.1:8080", "http://[::1]:8080", "address 127.0.0.1 does not serve public_url's host ::1"},
		{"127.0.0.2:8080", "http://127.0.0.1:8080", "address 127.0.0.2 does not serve"},
	} {
		cfg := config.Default()
		cfg.Listen, cfg.PublicURL = c.listen, c.public
		cfg.Resolve()
		if err := cfg.Validate(); err != nil {
			t.Fatalf("listen %s, public_url %s: invalid: %v", c.listen, c.public, err)
		}
		ws := cfg.Warnings()
		switch {
		case c.warn == "" && len(ws) != 0:
			t.Errorf("listen %s, public_url %s: unexpected warning %v", c.listen, c.public, ws)
		case c.warn != "" && (len(ws) != 1 || ws[0].Key != "listen" || !strings.Contains(ws[0].Message, c.warn) ||
			!strings.Contains(ws[0].Message, "SESAME_PUBLIC_URL")):
			t.Errorf("listen %s, public_url %s: warnings %v; want one on listen with %q", c.listen, c.public, ws, c.warn)
		}
	}
}

// TestPasskeysWarning: passkeys turned on with an IP address in public_url
// are warned about (browsers refuse them); auto is silent.
func TestPasskeysWarning(t *testing.T) {
	for _, c := range []struct {
		passkeys, public string
		warn             bool
	}{
		{"on", "http://127.0.0.1:8080", true},
		{"on", "http://localhost:8080", false},
		{"auto", "http://127.0.0.1:8080", false},
		{"off", "http://127.0.0.1:8080", false},
	} {
		cfg := config.Default()
		cfg.PublicURL, cfg.MFA.Passkeys = c.public, c.passkeys
		cfg.Resolve()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		ws := cfg.Warnings()
		if got := len(ws) == 1 && ws[0].Key == "mfa.passkeys" && strings.Contains(ws[0].Message, "http://localhost:8080"); got != c.warn {
			t.Errorf("passkeys %s, public_url %s: warnings %v", c.passkeys, c.public, ws)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	clearEnv(t)
	t.Setenv("SESAME_HTTP_TRUSTED_PROXIES", "127.0.0.1 ::1, 10.1.2.3/8,::ffff:172.16.0.1")
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := cfg.TrustedProxies()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.1/32")}
	if !slices.Equal(ps, want) {
		t.Fatalf("TrustedProxies = %v, want %v", ps, want)
	}
	if s := cfg.Summary(); !strings.Contains(s, "127.0.0.1/32, ::1/128, 10.0.0.0/8") {
		t.Errorf("summary does not show the proxies:\n%s", s)
	}

	// The default trusts no proxy.
	if ps, err := config.Default().TrustedProxies(); ps != nil || err != nil {
		t.Fatalf("default TrustedProxies = %v, %v", ps, err)
	}

	// A bad entry in the environment is reported under the key, like any
	// value that has the right type but is wrong.
	t.Setenv("SESAME_HTTP_TRUSTED_PROXIES", "127.0.0.1, fe80::1%eth0")
	_, err = config.Load("")
	if ps := config.Problems(err); len(ps) != 1 || ps[0].Key != "http.trusted_proxies" ||
		!strings.Contains(ps[0].Message, `"fe80::1%eth0"`) {
		t.Fatalf("problems = %v", ps)
	}
	// In the file, the key sits in the http section; a list is refused.
	clearEnv(t)
	cfg, err = config.Load(writeFile(t, "http:\n  trusted_proxies: 192.0.2.10\n"))
	if err != nil || cfg.HTTP.TrustedProxies != "192.0.2.10" {
		t.Fatalf("file: %v, %+v", err, cfg.HTTP)
	}
	_, err = config.Load(writeFile(t, "http:\n  trusted_proxies: [192.0.2.10]\n"))
	if ps := config.Problems(err); len(ps) != 1 || ps[0].Key != "http.trusted_proxies" {
		t.Fatalf("list: problems = %v", ps)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pw")
	if err := os.WriteFile(p, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	c.Mail.SMTP.PasswordFile = p
	c.LDAP.BindPassword = "inline"
	if got, err := c.SMTPPassword(); err != nil || got != "s3cret" {
		t.Fatalf("SMTPPassword = %q, %v", got, err)
	}
	if got, err := c.LDAPBindPassword(); err != nil || got != "inline" {
		t.Fatalf("LDAPBindPassword = %q, %v", got, err)
	}
	c.LDAP.BindPasswordFile = filepath.Join(dir, "missing")
	if _, err := c.LDAPBindPassword(); err == nil || !strings.Contains(err.Error(), "ldap.bind_password_file") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestUnreadableFile(t *testing.T) {
	clearEnv(t)
	if _, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
	if _, err := config.Load(writeFile(t, "listen: [unclosed\n")); err == nil {
		t.Fatal("broken YAML accepted")
	}
}

// TestExampleFile checks that config.example.yaml documents every key and
// works as it is.
func TestExampleFile(t *testing.T) {
	clearEnv(t)
	path := filepath.Join("..", "..", "config.example.yaml")
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.example.yaml does not load: %v", err)
	}
	if cfg.Store.Driver != "sqlite" || cfg.LDAPEnabled() {
		t.Errorf("the example should run locally (sqlite, LDAP off): %+v", cfg)
	}
	for _, k := range config.Keys() {
		last := k.Name[strings.LastIndex(k.Name, ".")+1:]
		if !bytes.Contains(body, []byte(last+":")) {
			t.Errorf("config.example.yaml does not mention %s", k.Name)
		}
	}
	// Every line that sets a key or opens a section has a comment above it.
	lines := strings.Split(string(body), "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
			t.Errorf("config.example.yaml line %d (%s) has no comment above it", i+1, l)
		}
	}
}

// TestSharedLimitsEnabled: "auto" shares the limits on PostgreSQL only;
// "on" and "off" decide whatever the backend.
func TestSharedLimitsEnabled(t *testing.T) {
	for _, tc := range []struct {
		driver, shared string
		want           bool
	}{
		{"sqlite", "auto", false}, {"postgres", "auto", true},
		{"sqlite", "on", true}, {"postgres", "off", false},
	} {
		c := config.Default()
		c.Store.Driver, c.Replicas.SharedLimits = tc.driver, tc.shared
		if got := c.SharedLimitsEnabled(); got != tc.want {
			t.Errorf("%s with shared_limits %s: %v, want %v", tc.driver, tc.shared, got, tc.want)
		}
	}
	if c := config.Default(); c.Replicas.SharedLimits != "auto" || c.Replicas.KeyReload != time.Minute {
		t.Errorf("defaults: %+v", c.Replicas)
	}
}

func TestJobSinkWorkers(t *testing.T) {
	c := config.Default()
	if m, err := c.JobSinkWorkers(); err != nil || m != nil {
		t.Fatalf("default: %v, %v", m, err)
	}
	c.Jobs.SinkWorkers = " ldap=2,mail=8 "
	if m, err := c.JobSinkWorkers(); err != nil || len(m) != 2 || m["ldap"] != 2 || m["mail"] != 8 {
		t.Fatalf("ldap=2,mail=8: %v, %v", m, err)
	}
	c.Jobs.SinkWorkers = "ldap=two"
	if _, err := c.JobSinkWorkers(); err == nil || !strings.Contains(err.Error(), `"ldap=two"`) {
		t.Fatalf("ldap=two: %v", err)
	}
}
