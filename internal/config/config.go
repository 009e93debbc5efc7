package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Config is sesame's whole configuration. Each field's key tag is its name in
// the YAML file (nested under its section's key) and, in upper case with
// dots turned into underscores after "SESAME_", its environment variable.
type Config struct {
	// DataDir holds the SQLite database, the master key and the mail files by
	// default. It is created at start.
	DataDir string `key:"data_dir"`
	// PublicURL is the absolute http(s) URL people reach sesame at: links in
	// emails start with it and it is the OpenID Connect issuer.
	PublicURL string `key:"public_url"`
	// Listen is the host:port the HTTP server listens on.
	Listen string `key:"listen"`

	HTTP     HTTP     `key:"http"`
	Log      Log      `key:"log"`
	Store    Store    `key:"store"`
	Jobs     Jobs     `key:"jobs"`
	Secrets  Secrets  `key:"secrets"`
	Import   Import   `key:"import"`
	Tokens   Tokens   `key:"tokens"`
	Password Password `key:"password"`
	Mail     Mail     `key:"mail"`
	LDAP     LDAP     `key:"ldap"`
	Replicas Replicas `key:"replicas"`
	Metrics  Metrics  `key:"metrics"`
	MFA      MFA      `key:"mfa"`
}

// MFA configures the second factor.
type MFA struct {
	// Admins is the hoster admins' policy: off, offered or required (the
	// default). Structures set their people's from the administration.
	Admins string `key:"admins"`
	// Grace is how long someone newly required to enrol a second factor
	// may put it off at login, counted from the first login that asked.
	Grace time.Duration `key:"grace"`
	// Passkeys turns passkeys on (WebAuthn: a fingerprint, a face or a
	// device PIN instead of the app's code), off, or auto (the default):
	// on when public_url names a host. Browsers refuse passkeys for an IP
	// address, so "on" with one is warned about.
	Passkeys string `key:"passkeys"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Listen is the host:port where GET /metrics is served, on its own
	// listener, never on the public one. Empty (the default) means off.
	Listen string `key:"listen"`
}

// HTTP configures how sesame reads requests.
type HTTP struct {
	// TrustedProxies lists the reverse proxies whose X-Forwarded-For header
	// names the client: IP addresses and CIDR prefixes separated by commas or
	// spaces, e.g. "127.0.0.1, 10.0.0.0/8, ::1". Empty means no proxy is
	// trusted and a request's client is the peer of its connection.
	TrustedProxies string `key:"trusted_proxies"`
}

// Log configures the server's logs.
type Log struct {
	Format string `key:"format"` // text or json
	Level  string `key:"level"`  // debug, info, warn or error
}

// Store chooses and configures the storage backend.
type Store struct {
	Driver   string   `key:"driver"` // sqlite or postgres
	SQLite   SQLite   `key:"sqlite"`
	Postgres Postgres `key:"postgres"`
}

// SQLite configures the embedded backend.
type SQLite struct {
	Path string `key:"path"` // default <data_dir>/sesame.db
}

// Postgres configures the PostgreSQL backend.
type Postgres struct {
	DSN string `key:"dsn"` // required when the driver is postgres
}

// Jobs configures the durable job runner.
type Jobs struct {
	Workers      int           `key:"workers"`       // jobs of one sink (ldap, mail, oidc) run at the same time
	SinkWorkers  string        `key:"sink_workers"`  // per-sink overrides of workers, e.g. "ldap=2, mail=8"
	MaxAttempts  int           `key:"max_attempts"`  // attempts before a job is dead
	Lease        time.Duration `key:"lease"`         // how long a claim holds
	PollInterval time.Duration `key:"poll_interval"` // how often an idle worker looks for jobs
	BackoffBase  time.Duration `key:"backoff_base"`  // first retry delay, doubled each attempt
	BackoffMax   time.Duration `key:"backoff_max"`   // longest retry delay
}

// Secrets locates the master key.
type Secrets struct {
	// KeyFile holds 32 random bytes, created 0600 at first start when absent
	// (default <data_dir>/secret.key). The token and encryption keys are
	// derived from it; losing it invalidates every emailed link and every
	// encrypted provisioning credential.
	KeyFile string `key:"key_file"`
}

// Import bounds CSV imports.
type Import struct {
	MaxBytes int `key:"max_bytes"` // largest accepted file
	MaxRows  int `key:"max_rows"`  // most data rows in one file
}

// Tokens sets the lifetime of emailed links.
type Tokens struct {
	ActivateTTL time.Duration `key:"activate_ttl"`
	ResetTTL    time.Duration `key:"reset_ttl"`
}

// Replicas configures what several sesame processes on one PostgreSQL
// database share (see docs/operations.md, "Running several replicas").
type Replicas struct {
	// SharedLimits says where rate limits and login-failure counters are
	// kept: "auto" (in the database on PostgreSQL, so that every replica
	// counts together; in the process on SQLite, which has one), "on" (in
	// the database) or "off" (in each process).
	SharedLimits string `key:"shared_limits"`
	// KeyReload is how often each replica re-reads the signing keys from
	// the database, so that a rotation made elsewhere is published.
	KeyReload time.Duration `key:"key_reload"`
}

// Password configures password hashing and policy.
type Password struct {
	MinLength           int `key:"min_length"`
	MaxConcurrentHashes int `key:"max_concurrent_hashes"`
}

// Mail configures outgoing email.
type Mail struct {
	Driver  string `key:"driver"`   // file or smtp
	FileDir string `key:"file_dir"` // where the file driver writes (default <data_dir>/mail)
	From    string `key:"from"`     // sender address, e.g. "sesame <sesame@example.org>"
	SMTP    SMTP   `key:"smtp"`
}

// SMTP configures the SMTP mail driver.
type SMTP struct {
	Host         string `key:"host"`
	Port         int    `key:"port"`
	TLS          string `key:"tls"` // starttls, tls, or none (loopback hosts only)
	Username     string `key:"username"`
	Password     string `key:"password"`
	PasswordFile string `key:"password_file"`
	CAFile       string `key:"ca_file"` // PEM bundle trusted for TLS instead of the system's (a private relay)
}

// LDAP configures the OpenLDAP directory sesame writes to. LDAP is off when
// URL is empty.
type LDAP struct {
	URL              string        `key:"url"`       // ldap:// or ldaps://
	StartTLS         bool          `key:"start_tls"` // upgrade an ldap:// connection
	CAFile           string        `key:"ca_file"`   // PEM bundle trusted for TLS; empty means the system's
	BindDN           string        `key:"bind_dn"`
	BindPassword     string        `key:"bind_password"`
	BindPasswordFile string        `key:"bind_password_file"`
	BaseDN           string        `key:"base_dn"`
	PageSize         int           `key:"page_size"`
	Timeout          time.Duration `key:"timeout"`
	PasswordScheme   string        `key:"password_scheme"` // how userPassword is written: ARGON2, or NONE for a directory without the argon2 module (see docs/ldap.md)
}

// Default values, as named values so that documentation and code agree.
const (
	DefaultDataDir             = "./data"
	DefaultPublicURL           = "http://127.0.0.1:8080"
	DefaultListen              = "127.0.0.1:8080"
	DefaultLogFormat           = "text"
	DefaultLogLevel            = "info"
	DefaultStoreDriver         = "sqlite"
	DefaultSQLiteFile          = "sesame.db" // under data_dir
	DefaultJobsWorkers         = 4
	DefaultJobsMaxAttempts     = 10
	DefaultJobsLease           = 5 * time.Minute
	DefaultJobsPollInterval    = time.Second
	DefaultJobsBackoffBase     = 10 * time.Second
	DefaultJobsBackoffMax      = time.Hour
	DefaultKeyFile             = "secret.key" // under data_dir
	DefaultImportMaxBytes      = 5 << 20
	DefaultImportMaxRows       = 5000
	DefaultActivateTTL         = 7 * 24 * time.Hour
	DefaultResetTTL            = time.Hour
	DefaultPasswordMinLength   = 10
	DefaultMailDriver          = "file"
	DefaultMailDir             = "mail" // under data_dir
	DefaultMailFrom            = "sesame <sesame@localhost>"
	DefaultSMTPPort            = 587
	DefaultSMTPTLS             = "starttls"
	DefaultLDAPPageSize        = 500
	DefaultLDAPTimeout         = 10 * time.Second
	DefaultLDAPPasswordScheme  = "ARGON2"
	DefaultSharedLimits        = "auto"
	DefaultKeyReload           = time.Minute
	minPasswordLengthAllowed   = 8
	maxPasswordLengthAllowed   = 64
	maxImportRowsAllowed       = 1_000_000
	maxImportBytesAllowed      = 1 << 30
	maxJobsWorkersAllowed      = 1000
	maxLDAPPageSizeAllowed     = 100_000
	minTokenTTLAllowed         = time.Minute
	maxConcurrentHashesAllowed = 1024
)

// DefaultMaxConcurrentHashes is the default bound on password hashes computed
// at the same time: one per CPU. argon2id keeps a CPU busy for the whole
// hash, so more slots than CPUs add no throughput: they make every hash
// slower, hold 19 MiB more each, and leave less CPU to the requests that
// must be answered meanwhile (a burst of 500 logins on two CPUs: refusals'
// p99 1.4× longer, peak memory 1.8× higher with two per CPU).
func DefaultMaxConcurrentHashes() int { return runtime.NumCPU() }

// Default returns the configuration used when nothing is set: SQLite and
// mail files in ./data, listening on 127.0.0.1:8080, LDAP off. Paths derived
// from data_dir are left empty here and filled by Resolve.
func Default() *Config {
	return &Config{
		DataDir:   DefaultDataDir,
		PublicURL: DefaultPublicURL,
		Listen:    DefaultListen,
		Log:       Log{Format: DefaultLogFormat, Level: DefaultLogLevel},
		Store:     Store{Driver: DefaultStoreDriver},
		Jobs: Jobs{
			Workers:      DefaultJobsWorkers,
			MaxAttempts:  DefaultJobsMaxAttempts,
			Lease:        DefaultJobsLease,
			PollInterval: DefaultJobsPollInterval,
			BackoffBase:  DefaultJobsBackoffBase,
			BackoffMax:   DefaultJobsBackoffMax,
		},
		Import:   Import{MaxBytes: DefaultImportMaxBytes, MaxRows: DefaultImportMaxRows},
		Tokens:   Tokens{ActivateTTL: DefaultActivateTTL, ResetTTL: DefaultResetTTL},
		Password: Password{MinLength: DefaultPasswordMinLength, MaxConcurrentHashes: DefaultMaxConcurrentHashes()},
		MFA:      MFA{Admins: "required", Grace: 14 * 24 * time.Hour, Passkeys: "auto"},
		Mail: Mail{
			Driver: DefaultMailDriver,
			From:   DefaultMailFrom,
			SMTP:   SMTP{Port: DefaultSMTPPort, TLS: DefaultSMTPTLS},
		},
		Replicas: Replicas{SharedLimits: DefaultSharedLimits, KeyReload: DefaultKeyReload},
		LDAP: LDAP{
			PageSize:       DefaultLDAPPageSize,
			Timeout:        DefaultLDAPTimeout,
			PasswordScheme: DefaultLDAPPasswordScheme,
		},
	}
}

// Resolve fills the paths that default to a place under data_dir
// (store.sqlite.path, secrets.key_file, mail.file_dir) when they are empty.
// Load calls it; call it yourself on a Config built in code.
func (c *Config) Resolve() {
	if c.Store.SQLite.Path == "" {
		c.Store.SQLite.Path = filepath.Join(c.DataDir, DefaultSQLiteFile)
	}
	if c.Secrets.KeyFile == "" {
		c.Secrets.KeyFile = filepath.Join(c.DataDir, DefaultKeyFile)
	}
	if c.Mail.FileDir == "" {
		c.Mail.FileDir = filepath.Join(c.DataDir, DefaultMailDir)
	}
}

// TrustedProxies returns http.trusted_proxies as prefixes (an address is a
// prefix of one address), or an error naming the first entry that is not an
// IP address or CIDR prefix. It returns nil when no proxy is trusted.
func (c *Config) TrustedProxies() ([]netip.Prefix, error) {
	ps, bad := parseProxies(c.HTTP.TrustedProxies)
	if len(bad) > 0 {
		return nil, fmt.Errorf("config: http.trusted_proxies: %q is not an IP address or CIDR prefix", bad[0])
	}
	return ps, nil
}

// parseProxies splits a list of addresses and prefixes on commas and spaces
// and parses each entry; it returns the entries that do not parse apart.
// IPv4-mapped IPv6 entries are turned into IPv4, as clients' addresses are.
func parseProxies(s string) (prefixes []netip.Prefix, bad []string) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	for _, f := range fields {
		p, err := parseProxy(f)
		if err != nil {
			bad = append(bad, f)
			continue
		}
		prefixes = append(prefixes, p)
	}
	return prefixes, bad
}

func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q has a zone", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// JobSinkWorkers returns jobs.sink_workers as sink name -> workers (nil
// when empty), or an error naming the first entry that is not NAME=N with
// N between 1 and the largest jobs.workers allowed.
func (c *Config) JobSinkWorkers() (map[string]int, error) {
	m, bad := parseSinkWorkers(c.Jobs.SinkWorkers)
	if bad != "" {
		return nil, fmt.Errorf("config: jobs.sink_workers: %q is not NAME=N with N from 1 to %d (e.g. \"ldap=2, mail=8\")", bad, maxJobsWorkersAllowed)
	}
	return m, nil
}

func parseSinkWorkers(s string) (m map[string]int, bad string) {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		name, num, ok := strings.Cut(f, "=")
		n, err := strconv.Atoi(num)
		if !ok || name == "" || strings.ContainsAny(name, ".=") || err != nil || n < 1 || n > maxJobsWorkersAllowed {
			return nil, f
		}
		if m == nil {
			m = map[string]int{}
		}
		m[name] = n
	}
	return m, ""
}

// SharedLimitsEnabled reports whether rate limits are kept in the
// database (replicas.shared_limits; "auto" means on PostgreSQL only).
func (c *Config) SharedLimitsEnabled() bool {
	switch c.Replicas.SharedLimits {
	case "on":
		return true
	case "off":
		return false
	}
	return c.Store.Driver == "postgres"
}

// LDAPEnabled reports whether a directory is configured.
func (c *Config) LDAPEnabled() bool { return c.LDAP.URL != "" }

// SMTPPassword returns mail.smtp.password, or the content of
// mail.smtp.password_file (without its trailing newline) when that is set.
func (c *Config) SMTPPassword() (string, error) {
	return secretValue("mail.smtp.password_file", c.Mail.SMTP.Password, c.Mail.SMTP.PasswordFile)
}

// LDAPBindPassword returns ldap.bind_password, or the content of
// ldap.bind_password_file (without its trailing newline) when that is set.
func (c *Config) LDAPBindPassword() (string, error) {
	return secretValue("ldap.bind_password_file", c.LDAP.BindPassword, c.LDAP.BindPasswordFile)
}

func secretValue(key, value, file string) (string, error) {
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("config: %s: %w", key, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// Summary describes the configuration in a few lines, without secrets, for
// "sesame config check".
func (c *Config) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen:     %s (public URL %s)\n", c.Listen, c.PublicURL)
	fmt.Fprintf(&b, "data dir:   %s\n", c.DataDir)
	if c.Metrics.Listen != "" {
		fmt.Fprintf(&b, "metrics:    http://%s/metrics (its own listener)\n", c.Metrics.Listen)
	}
	if ps, err := c.TrustedProxies(); err == nil && len(ps) > 0 {
		fmt.Fprintf(&b, "proxies:    %s (X-Forwarded-For trusted from them)\n", joinPrefixes(ps))
	}
	switch c.Store.Driver {
	case "postgres":
		fmt.Fprintf(&b, "store:      postgres (%s)\n", redactDSN(c.Store.Postgres.DSN))
	default:
		fmt.Fprintf(&b, "store:      sqlite (%s)\n", c.Store.SQLite.Path)
	}
	switch c.Mail.Driver {
	case "smtp":
		fmt.Fprintf(&b, "mail:       smtp %s:%d (%s), from %s\n", c.Mail.SMTP.Host, c.Mail.SMTP.Port, c.Mail.SMTP.TLS, c.Mail.From)
	default:
		fmt.Fprintf(&b, "mail:       files in %s, from %s\n", c.Mail.FileDir, c.Mail.From)
	}
	if c.LDAPEnabled() {
		fmt.Fprintf(&b, "ldap:       %s, base %s\n", c.LDAP.URL, c.LDAP.BaseDN)
	} else {
		b.WriteString("ldap:       off\n")
	}
	fmt.Fprintf(&b, "jobs:       %d workers per sink, %d attempts\n", c.Jobs.Workers, c.Jobs.MaxAttempts)
	fmt.Fprintf(&b, "key file:   %s\n", c.Secrets.KeyFile)
	fmt.Fprintf(&b, "log:        %s, %s\n", c.Log.Format, c.Log.Level)
	return b.String()
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// RedactDSN returns a PostgreSQL connection string with its password
// hidden, fit for messages and logs.
func RedactDSN(dsn string) string { return redactDSN(dsn) }

// redactDSN hides the password of a PostgreSQL connection string: in a
// URL, the user information's and the password (or sslpassword) query
// parameters pgx and libpq also read; in a key=value string, the value of
// those keys as libpq reads it (spaces around "=", quoted values).
func redactDSN(dsn string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// Hide everything before the host rather than show a password.
			scheme, rest, _ := strings.Cut(dsn, "://")
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				rest = "xxxxx" + rest[at:]
			}
			return scheme + "://" + rest
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		if u.RawQuery != "" {
			// Parameter by parameter, the others kept as written (a
			// socket path, their order).
			params := strings.Split(u.RawQuery, "&")
			for i, kv := range params {
				k, _, _ := strings.Cut(kv, "=")
				if uk, err := url.QueryUnescape(k); err == nil && secretDSNKey(uk) {
					params[i] = k + "=xxxxx"
				}
			}
			u.RawQuery = strings.Join(params, "&")
		}
		return u.Redacted()
	}
	var b strings.Builder
	s := dsn
	for {
		s = strings.TrimLeft(s, " \t\n\r\v\f")
		if s == "" {
			return strings.TrimSpace(b.String())
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return strings.TrimSpace(b.String()) // not key=value: shown no further
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t\n\r\v\f")
		// The value: quoted (backslash escapes), or up to the next space.
		end := 0
		if strings.HasPrefix(s, "'") {
			for end = 1; end < len(s) && s[end] != '\''; end++ {
				if s[end] == '\\' {
					end++
				}
			}
			end = min(end+1, len(s))
		} else {
			for end < len(s) && !strings.ContainsRune(" \t\n\r\v\f", rune(s[end])) {
				end++
			}
		}
		val := s[:end]
		if secretDSNKey(key) {
			val = "xxxxx"
		}
		b.WriteString(key + "=" + val + " ")
		s = s[end:]
	}
}

// secretDSNKey reports whether a connection parameter holds a secret.
func secretDSNKey(k string) bool { return k == "password" || k == "sslpassword" }
