package ldapsync

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// The password schemes sesame can write.
const (
	// SchemeArgon2 writes the store's argon2id hash as
	// userPassword: {ARGON2}$argon2id$..., verified by slapd's argon2 module.
	SchemeArgon2 = "argon2"
	// SchemeNone leaves userPassword alone: for directories without the
	// argon2 module, whose services authenticate people through OpenID
	// Connect only.
	SchemeNone = "none"
)

// Defaults applied by Config.WithDefaults.
const (
	DefaultPageSize       = 500
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	DefaultWorkers        = 4
	DefaultConnections    = 4
)

// Config says how to reach and write the directory. The command line maps
// sesame's configuration file onto it.
type Config struct {
	// URL is ldap://HOST[:PORT] or ldaps://HOST[:PORT].
	URL string
	// StartTLS upgrades an ldap:// connection with the StartTLS operation.
	StartTLS bool
	// CAFile is a PEM bundle of the authorities trusted for ldaps:// and
	// StartTLS; empty means the system's.
	CAFile string
	// BindDN is the account sesame writes with.
	BindDN string
	// The bind password: the value itself, or a file holding it (trailing
	// newline ignored), or the name of an environment variable holding it.
	// Exactly one may be set.
	BindPassword     string
	BindPasswordFile string
	BindPasswordEnv  string
	// BaseDN is the suffix under which ou=people and ou=structures live.
	BaseDN string
	// PageSize is the Simple Paged Results page size of full reads.
	PageSize int
	// DialTimeout bounds connecting; RequestTimeout bounds one operation.
	DialTimeout    time.Duration
	RequestTimeout time.Duration
	// PasswordScheme is SchemeArgon2 (default) or SchemeNone.
	PasswordScheme string
	// Workers is how many entry writes a bulk sync keeps in flight.
	Workers int
	// Connections bounds the connections open to the directory: each
	// operation in flight has one to itself (paged searches need it).
	Connections int
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	c.PasswordScheme = strings.ToLower(c.PasswordScheme) // the config file says ARGON2
	if c.PasswordScheme == "" {
		c.PasswordScheme = SchemeArgon2
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Connections == 0 {
		c.Connections = DefaultConnections
	}
	return c
}

// Validate reports every problem of c at once, each naming its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("ldap.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.URL == "" {
		bad("url", "is required")
	} else if u, err := url.Parse(c.URL); err != nil || u.Host == "" {
		bad("url", "%q is not an ldap:// or ldaps:// URL", c.URL)
	} else {
		switch u.Scheme {
		case "ldap":
		case "ldaps":
			if c.StartTLS {
				bad("start_tls", "cannot be used with an ldaps:// URL (it is already TLS)")
			}
		default:
			bad("url", "scheme %q is not ldap or ldaps", u.Scheme)
		}
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			bad("ca_file", "cannot be read: %v", err)
		}
	}
	if c.BindDN == "" {
		bad("bind_dn", "is required")
	} else if _, err := ldap.ParseDN(c.BindDN); err != nil {
		bad("bind_dn", "%q is not a DN: %v", c.BindDN, err)
	}
	n := 0
	for _, v := range []string{c.BindPassword, c.BindPasswordFile, c.BindPasswordEnv} {
		if v != "" {
			n++
		}
	}
	switch {
	case n == 0:
		bad("bind_password", "is required (or bind_password_file, or bind_password_env)")
	case n > 1:
		bad("bind_password", "set only one of bind_password, bind_password_file and bind_password_env")
	}
	if c.BaseDN == "" {
		bad("base_dn", "is required")
	} else if dn, err := ldap.ParseDN(c.BaseDN); err != nil || len(dn.RDNs) == 0 {
		bad("base_dn", "%q is not a DN", c.BaseDN)
	}
	if c.PageSize < 0 {
		bad("page_size", "must be positive")
	}
	if c.DialTimeout < 0 {
		bad("dial_timeout", "must be positive")
	}
	if c.RequestTimeout < 0 {
		bad("request_timeout", "must be positive")
	}
	switch strings.ToLower(c.PasswordScheme) {
	case "", SchemeArgon2, SchemeNone:
	default:
		bad("password_scheme", "%q is not %q or %q", c.PasswordScheme, SchemeArgon2, SchemeNone)
	}
	if c.Workers < 0 || c.Workers > 64 {
		bad("workers", "must be between 1 and 64")
	}
	if c.Connections < 0 || c.Connections > 64 {
		bad("connections", "must be between 1 and 64")
	}
	if len(errs) > 0 {
		return fmt.Errorf("ldapsync: invalid configuration: %w", errors.Join(errs...))
	}
	return nil
}

// ResolveBindPassword returns the bind password from the value, the file or
// the environment variable, whichever is set.
func (c Config) ResolveBindPassword() (string, error) {
	switch {
	case c.BindPassword != "":
		return c.BindPassword, nil
	case c.BindPasswordFile != "":
		b, err := os.ReadFile(c.BindPasswordFile)
		if err != nil {
			return "", fmt.Errorf("ldapsync: read bind password file: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", fmt.Errorf("ldapsync: bind password file %s is empty", c.BindPasswordFile)
		}
		return pw, nil
	case c.BindPasswordEnv != "":
		pw, ok := os.LookupEnv(c.BindPasswordEnv)
		if !ok || pw == "" {
			return "", fmt.Errorf("ldapsync: environment variable %s (bind password) is not set", c.BindPasswordEnv)
		}
		return pw, nil
	}
	return "", errors.New("ldapsync: no bind password configured")
}
