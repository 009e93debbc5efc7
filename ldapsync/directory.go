package ldapsync

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"

	"github.com/go-ldap/ldap/v3"
)

// ErrUnavailable marks errors caused by the directory being unreachable
// (connection refused or lost, timeout, server busy): worth retrying later.
var ErrUnavailable = errors.New("ldapsync: directory unavailable")

// ErrRejected marks errors that retrying cannot fix until someone changes
// the data: a foreign entry in the way, a person missing from the store, a
// password hash that is not argon2id.
var ErrRejected = errors.New("ldapsync: rejected")

// Directory is the narrow view ldapsync has of an LDAP server. Its methods
// are safe for concurrent use. Search follows Simple Paged Results to the
// end.
type Directory interface {
	Search(req *ldap.SearchRequest) (*ldap.SearchResult, error)
	Add(req *ldap.AddRequest) error
	Modify(req *ldap.ModifyRequest) error
	Del(req *ldap.DelRequest) error
}

// Conn is a Directory over one bound go-ldap connection, dialled on first
// use and dialled again after a connection failure.
type Conn struct {
	cfg      Config
	password string
	tls      *tls.Config

	mu sync.Mutex
	c  *ldap.Conn
}

var _ Directory = (*Conn)(nil)

// NewConn checks cfg and prepares a connection; nothing is dialled until the
// first operation (so sesame starts while the directory is down).
func NewConn(cfg Config) (*Conn, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pw, err := cfg.ResolveBindPassword()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.URL)
	tc := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldapsync: read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldapsync: CA file %s holds no PEM certificate", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return &Conn{cfg: cfg, password: pw, tls: tc}, nil
}

// Config returns the configuration the connection was made with, defaults
// applied.
func (c *Conn) Config() Config { return c.cfg }

// Connect dials and binds now if there is no live connection.
func (c *Conn) Connect() error {
	_, err := c.get()
	return err
}

func (c *Conn) get() (*ldap.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c != nil && !c.c.IsClosing() {
		return c.c, nil
	}
	if c.c != nil {
		_ = c.c.Close()
		c.c = nil
	}
	lc, err := c.dialBind(c.cfg.BindDN, c.password)
	if err != nil {
		return nil, err
	}
	c.c = lc
	return lc, nil
}

// dialBind opens a new connection (TLS as configured) and binds it as dn.
func (c *Conn) dialBind(dn, password string) (*ldap.Conn, error) {
	lc, err := ldap.DialURL(c.cfg.URL,
		ldap.DialWithDialer(&net.Dialer{Timeout: c.cfg.DialTimeout}),
		ldap.DialWithTLSConfig(c.tls))
	if err != nil {
		return nil, fmt.Errorf("%w: connect to %s: %w", ErrUnavailable, c.cfg.URL, err)
	}
	lc.SetTimeout(c.cfg.RequestTimeout)
	if c.cfg.StartTLS {
		if err := lc.StartTLS(c.tls); err != nil {
			_ = lc.Close()
			return nil, fmt.Errorf("ldapsync: StartTLS with %s: %w", c.cfg.URL, err)
		}
	}
	if err := lc.Bind(dn, password); err != nil {
		_ = lc.Close()
		if isConnError(err) {
			return nil, fmt.Errorf("%w: bind to %s: %w", ErrUnavailable, c.cfg.URL, err)
		}
		return nil, fmt.Errorf("ldapsync: bind as %s: %w", dn, err)
	}
	return lc, nil
}

// do runs fn on the live connection; a connection failure drops it (the next
// call dials again) and is reported as ErrUnavailable.
func (c *Conn) do(fn func(*ldap.Conn) error) error {
	lc, err := c.get()
	if err != nil {
		return err
	}
	err = fn(lc)
	if err != nil && (isConnError(err) || lc.IsClosing()) {
		c.mu.Lock()
		if c.c == lc {
			_ = lc.Close()
			c.c = nil
		}
		c.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// isConnError reports whether err means the server could not be reached or
// could not serve the request now: a result code saying so, or any error
// that is not a result from the server at all (go-ldap reports a broken
// connection with plain errors such as "unable to send request").
func isConnError(err error) bool {
	if err == nil {
		return false
	}
	var le *ldap.Error
	if !errors.As(err, &le) {
		return true
	}
	return ldap.IsErrorAnyOf(err, ldap.ErrorNetwork, ldap.LDAPResultBusy, ldap.LDAPResultUnavailable,
		ldap.LDAPResultServerDown, ldap.LDAPResultConnectError, ldap.LDAPResultTimeout)
}

// Search runs req, following paged results with the configured page size.
func (c *Conn) Search(req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	var res *ldap.SearchResult
	err := c.do(func(lc *ldap.Conn) error {
		var err error
		res, err = lc.SearchWithPaging(req, uint32(c.cfg.PageSize))
		return err
	})
	return res, err
}

// Add runs req.
func (c *Conn) Add(req *ldap.AddRequest) error {
	return c.do(func(lc *ldap.Conn) error { return lc.Add(req) })
}

// Modify runs req.
func (c *Conn) Modify(req *ldap.ModifyRequest) error {
	return c.do(func(lc *ldap.Conn) error { return lc.Modify(req) })
}

// Del runs req.
func (c *Conn) Del(req *ldap.DelRequest) error {
	return c.do(func(lc *ldap.Conn) error { return lc.Del(req) })
}

// Close closes the connection, if any.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return nil
	}
	err := c.c.Close()
	c.c = nil
	return err
}

// IsUnavailable reports whether err means the directory could not be reached.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }
