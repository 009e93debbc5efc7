package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Validate checks every key and reports every problem at once in an *Error,
// each naming its key, e.g. `listen: "abc" is not host:port`. Paths derived
// from data_dir must have been filled (Load does it; see Resolve).
func (c *Config) Validate() error { return problems(c.problems()).err() }

func (c *Config) problems() problems {
	var ps problems
	required := func(key, v string) bool {
		if strings.TrimSpace(v) == "" {
			ps.add(key, "must be set")
			return false
		}
		return true
	}
	oneOf := func(key, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		ps.add(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	between := func(key string, v, lo, hi int) {
		if v < lo || v > hi {
			ps.add(key, "%d is not between %d and %d", v, lo, hi)
		}
	}
	positive := func(key string, d time.Duration) bool {
		if d <= 0 {
			ps.add(key, "%s must be a positive duration", d)
			return false
		}
		return true
	}
	exclusive := func(keyA, a, keyB, b string) {
		if a != "" && b != "" {
			ps.add(keyB, "cannot be set together with %s: choose one", keyA)
		}
	}

	required("data_dir", c.DataDir)
	if required("public_url", c.PublicURL) {
		checkPublicURL(&ps, c.PublicURL)
	}
	if required("listen", c.Listen) {
		if _, port, err := net.SplitHostPort(c.Listen); err != nil {
			ps.add("listen", "%q is not host:port", c.Listen)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			ps.add("listen", "%q has no valid port", c.Listen)
		}
	}

	checkProxies(&ps, c.HTTP.TrustedProxies)

	if c.Metrics.Listen != "" {
		mhost, mport, err := net.SplitHostPort(c.Metrics.Listen)
		lhost, lport, _ := net.SplitHostPort(c.Listen)
		if n, perr := strconv.Atoi(mport); err != nil || perr != nil || n < 0 || n > 65535 {
			ps.add("metrics.listen", "%q is not host:port", c.Metrics.Listen)
		} else if mport == lport && mport != "0" && (mhost == lhost || mhost == "" || lhost == "" || mhost == "0.0.0.0" || lhost == "0.0.0.0" || mhost == "::" || lhost == "::") {
			ps.add("metrics.listen", "%q is the public listener's address (listen: %q): metrics are served on their own address, never on the public one", c.Metrics.Listen, c.Listen)
		}
	}

	oneOf("log.format", c.Log.Format, "text", "json")
	oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")

	oneOf("store.driver", c.Store.Driver, "sqlite", "postgres")
	switch c.Store.Driver {
	case "sqlite":
		required("store.sqlite.path", c.Store.SQLite.Path)
	case "postgres":
		if required("store.postgres.dsn", c.Store.Postgres.DSN) {
			checkDSN(&ps, c.Store.Postgres.DSN)
		}
	}

	between("jobs.workers", c.Jobs.Workers, 1, maxJobsWorkersAllowed)
	if _, bad := parseSinkWorkers(c.Jobs.SinkWorkers); bad != "" {
		ps.add("jobs.sink_workers", "%q is not NAME=N with N from 1 to %d (e.g. \"ldap=2, mail=8\")", bad, maxJobsWorkersAllowed)
	}
	between("jobs.max_attempts", c.Jobs.MaxAttempts, 1, 1000)
	positive("jobs.lease", c.Jobs.Lease)
	positive("jobs.poll_interval", c.Jobs.PollInterval)
	base := positive("jobs.backoff_base", c.Jobs.BackoffBase)
	if positive("jobs.backoff_max", c.Jobs.BackoffMax) && base && c.Jobs.BackoffMax < c.Jobs.BackoffBase {
		ps.add("jobs.backoff_max", "%s is shorter than jobs.backoff_base (%s)", c.Jobs.BackoffMax, c.Jobs.BackoffBase)
	}

	required("secrets.key_file", c.Secrets.KeyFile)

	between("import.max_bytes", c.Import.MaxBytes, 1024, maxImportBytesAllowed)
	between("import.max_rows", c.Import.MaxRows, 1, maxImportRowsAllowed)

	if positive("tokens.activate_ttl", c.Tokens.ActivateTTL) && c.Tokens.ActivateTTL < minTokenTTLAllowed {
		ps.add("tokens.activate_ttl", "%s is shorter than %s", c.Tokens.ActivateTTL, minTokenTTLAllowed)
	}
	if positive("tokens.reset_ttl", c.Tokens.ResetTTL) && c.Tokens.ResetTTL < minTokenTTLAllowed {
		ps.add("tokens.reset_ttl", "%s is shorter than %s", c.Tokens.ResetTTL, minTokenTTLAllowed)
	}

	between("password.min_length", c.Password.MinLength, minPasswordLengthAllowed, maxPasswordLengthAllowed)
	between("password.max_concurrent_hashes", c.Password.MaxConcurrentHashes, 1, maxConcurrentHashesAllowed)

	oneOf("mfa.admins", c.MFA.Admins, "off", "offered", "required")
	positive("mfa.grace", c.MFA.Grace)
	oneOf("mfa.passkeys", c.MFA.Passkeys, "auto", "on", "off")

	oneOf("replicas.shared_limits", c.Replicas.SharedLimits, "auto", "on", "off")
	positive("replicas.key_reload", c.Replicas.KeyReload)

	c.mailProblems(&ps, required, oneOf, between, exclusive)
	c.ldapProblems(&ps, required, oneOf, between, positive, exclusive)
	return ps
}

// Warnings lists settings that are valid but probably not what was meant,
// each naming its key: "sesame config check" prints them and "sesame serve"
// logs them, neither refuses them. Call it on a valid configuration.
func (c *Config) Warnings() []Problem {
	var ps problems
	c.listenWarnings(&ps)
	if u, err := url.Parse(c.PublicURL); err == nil && c.MFA.Passkeys == "on" && net.ParseIP(u.Hostname()) != nil {
		ps.add("mfa.passkeys", "passkeys cannot work: public_url's host %s is an IP address, which browsers refuse as a "+
			"passkey's site; give public_url a name (e.g. SESAME_PUBLIC_URL=http://localhost:8080 on this machine)", u.Hostname())
	}
	return ps
}

// listenWarnings reports a loopback public_url that listen does not serve:
// a port or address that differs, after which emailed links and the
// issuer point where sesame does not answer. A public_url on another host
// is reached through a reverse proxy, whose port sesame cannot know.
func (c *Config) listenWarnings(ps *problems) {
	u, err := url.Parse(c.PublicURL)
	if err != nil || !isLoopback(u.Hostname()) {
		return
	}
	lhost, lport, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return
	}
	pport := u.Port()
	if pport == "" {
		pport = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	both := fmt.Sprintf("change both together (e.g. SESAME_LISTEN=127.0.0.1:9090 SESAME_PUBLIC_URL=http://127.0.0.1:9090), "+
		"unless a proxy on this machine forwards %s to sesame", u.Host)
	if lport != pport {
		ps.add("listen", "port %s differs from public_url's (%s): emailed links and the OpenID Connect issuer %s point "+
			"where sesame does not answer; %s", lport, pport, c.PublicURL, both)
		return
	}
	if !listenServes(lhost, u.Hostname()) {
		ps.add("listen", "address %s does not serve public_url's host %s: emailed links and the OpenID Connect issuer %s "+
			"point where sesame does not answer; %s", lhost, u.Hostname(), c.PublicURL, both)
	}
}

// listenServes reports whether a server listening on host (from listen)
// answers connections to the loopback address or name public.
func listenServes(host, public string) bool {
	ip := net.ParseIP(host)
	switch {
	case host == "" || (ip != nil && ip.IsUnspecified()):
		return true // every address
	case strings.EqualFold(host, "localhost"):
		host, ip = "127.0.0.1", net.ParseIP("127.0.0.1") // what Go listens on for it
	case ip == nil || !ip.IsLoopback():
		return false
	}
	if strings.EqualFold(public, "localhost") {
		return true // resolved to the loopback address the server listens on
	}
	return ip.Equal(net.ParseIP(public))
}

func checkPublicURL(ps *problems, s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		ps.add("public_url", "%q is not a URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		ps.add("public_url", "%q must start with http:// or https://", s)
	case u.Host == "" || u.Hostname() == "":
		ps.add("public_url", "%q has no host", s)
	case u.User != nil:
		ps.add("public_url", "%q must not hold a user name or password", s)
	case u.RawQuery != "" || u.ForceQuery:
		ps.add("public_url", "%q must not have a query", s)
	case u.Fragment != "":
		ps.add("public_url", "%q must not have a fragment", s)
	}
}

// checkProxies reports every entry of http.trusted_proxies that does not
// parse, and a prefix that trusts every address (any client could then name
// itself).
func checkProxies(ps *problems, s string) {
	prefixes, bad := parseProxies(s)
	for _, b := range bad {
		ps.add("http.trusted_proxies", "%q is not an IP address or CIDR prefix such as 10.0.0.0/8", b)
	}
	for _, p := range prefixes {
		if p.Bits() == 0 {
			ps.add("http.trusted_proxies", "%s trusts every address: any client could choose the address it is limited by", p)
		}
	}
}

func checkDSN(ps *problems, dsn string) {
	// pgx accepts URLs and key=value strings; check what can be checked
	// without connecting.
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			ps.add("store.postgres.dsn", "is not a postgres:// URL nor a key=value connection string")
		}
		return
	}
	if !strings.Contains(dsn, "=") {
		ps.add("store.postgres.dsn", "is not a postgres:// URL nor a key=value connection string")
	}
}

// isLoopback reports whether host names this machine only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) mailProblems(ps *problems, required func(string, string) bool,
	oneOf func(string, string, ...string), between func(string, int, int, int), exclusive func(string, string, string, string)) {
	oneOf("mail.driver", c.Mail.Driver, "file", "smtp")
	if required("mail.from", c.Mail.From) {
		if _, err := mail.ParseAddress(c.Mail.From); err != nil {
			ps.add("mail.from", "%q is not an email address such as \"sesame <sesame@example.org>\"", c.Mail.From)
		}
	}
	switch c.Mail.Driver {
	case "file":
		required("mail.file_dir", c.Mail.FileDir)
	case "smtp":
		s := c.Mail.SMTP
		required("mail.smtp.host", s.Host)
		between("mail.smtp.port", s.Port, 1, 65535)
		oneOf("mail.smtp.tls", s.TLS, "starttls", "tls", "none")
		if s.TLS == "none" && s.Host != "" && !isLoopback(s.Host) {
			ps.add("mail.smtp.tls", "none is only allowed for a loopback host, not %q", s.Host)
		}
		exclusive("mail.smtp.password", s.Password, "mail.smtp.password_file", s.PasswordFile)
		if (s.Password != "" || s.PasswordFile != "") && s.Username == "" {
			ps.add("mail.smtp.username", "must be set when a password is given")
		}
		if s.CAFile != "" && s.TLS == "none" {
			ps.add("mail.smtp.ca_file", "is used for TLS only: mail.smtp.tls is none")
		}
	}
}

func (c *Config) ldapProblems(ps *problems, required func(string, string) bool,
	oneOf func(string, string, ...string), between func(string, int, int, int),
	positive func(string, time.Duration) bool, exclusive func(string, string, string, string)) {
	l := c.LDAP
	if l.URL == "" {
		return // LDAP is off; other ldap.* keys are ignored.
	}
	u, err := url.Parse(l.URL)
	switch {
	case err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "":
		ps.add("ldap.url", "%q is not an ldap:// or ldaps:// URL with a host", l.URL)
	case u.Scheme == "ldaps" && l.StartTLS:
		ps.add("ldap.start_tls", "cannot be used with an ldaps:// URL (it is already TLS)")
	}
	required("ldap.base_dn", l.BaseDN)
	required("ldap.bind_dn", l.BindDN)
	exclusive("ldap.bind_password", l.BindPassword, "ldap.bind_password_file", l.BindPasswordFile)
	if l.BindPassword == "" && l.BindPasswordFile == "" {
		ps.add("ldap.bind_password", "must be set (or ldap.bind_password_file)")
	}
	between("ldap.page_size", l.PageSize, 1, maxLDAPPageSizeAllowed)
	positive("ldap.timeout", l.Timeout)
	oneOf("ldap.password_scheme", l.PasswordScheme, "ARGON2", "NONE")
}
