package ldapsync

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	"sesame/internal/certs"
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

// Conn is a Directory over a small pool of bound go-ldap connections.
// Every operation has a connection to itself for its duration: slapd keeps
// the state of a paged search per connection, so two paged searches on one
// connection invalidate each other's cookie ("paged results cookie is
// invalid or old"). Connections are dialled on demand, outside any lock,
// kept for reuse while they work, and dropped after a connection failure.
//
// Every step has a deadline: dialling (DialTimeout), StartTLS and the bind
// (RequestTimeout), each request (RequestTimeout), and the wait for a free
// connection when all of them are busy (RequestTimeout). A directory that
// hangs (a frozen slapd) thus gives ErrUnavailable within bounded time, and
// never holds a lock other callers wait on.
type Conn struct {
	cfg      Config
	password string
	tls      *tls.Config
	// slots holds one token per operation in flight: at most
	// cfg.Connections connections are open or being dialled.
	slots chan struct{}

	mu   sync.Mutex
	idle []pooled // bound connections waiting for an operation
	gen  int      // bumped by Close and after a failure: older connections are not reused
}

// pooled is an idle connection and the generation it was made in.
type pooled struct {
	c   *ldap.Conn
	gen int
}

var _ Directory = (*Conn)(nil)

// NewConn checks cfg and prepares the pool; nothing is dialled until the
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
		pool, err := certs.ReadCA(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldapsync: %w", err)
		}
		tc.RootCAs = pool
	}
	return &Conn{cfg: cfg, password: pw, tls: tc, slots: make(chan struct{}, cfg.Connections)}, nil
}

// Config returns the configuration the connection was made with, defaults
// applied.
func (c *Conn) Config() Config { return c.cfg }

// Connect dials and binds now if no connection is open.
func (c *Conn) Connect() error {
	return c.do(func(*ldap.Conn) error { return nil })
}

// acquire waits (at most RequestTimeout) for a free slot, then returns an
// idle connection or dials a new one, and the generation it belongs to.
// The caller gives both back to release.
func (c *Conn) acquire() (*ldap.Conn, int, error) {
	t := time.NewTimer(c.cfg.RequestTimeout)
	select {
	case c.slots <- struct{}{}:
		t.Stop()
	case <-t.C:
		return nil, 0, fmt.Errorf("%w: all %d connections to %s stayed busy for %s", ErrUnavailable,
			c.cfg.Connections, c.cfg.URL, c.cfg.RequestTimeout)
	}
	c.mu.Lock()
	gen := c.gen
	var stale []*ldap.Conn
	var found *ldap.Conn
	for found == nil && len(c.idle) > 0 {
		p := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if p.gen == gen && !p.c.IsClosing() {
			found = p.c
		} else {
			stale = append(stale, p.c)
		}
	}
	c.mu.Unlock()
	closeAll(stale)
	if found != nil {
		return found, gen, nil
	}
	// Dial and bind with no lock held: a hanging server delays only this
	// caller, never those that find an idle connection.
	lc, err := c.dialBind(c.cfg.BindDN, c.password)
	if err != nil {
		<-c.slots
		return nil, 0, err
	}
	return lc, gen, nil
}

// release gives a connection back after an operation: kept for the next
// one unless it broke (then every idle connection of its generation is
// dropped too: they lead to the same failed server).
func (c *Conn) release(lc *ldap.Conn, gen int, broken bool) {
	var drop []*ldap.Conn
	c.mu.Lock()
	switch {
	case broken:
		drop = append(drop, lc)
		if gen == c.gen { // the first to see this failure
			c.gen++
			for _, p := range c.idle {
				drop = append(drop, p.c)
			}
			c.idle = nil
		}
	case gen != c.gen || lc.IsClosing():
		drop = append(drop, lc)
	default:
		c.idle = append(c.idle, pooled{c: lc, gen: gen})
	}
	c.mu.Unlock()
	closeAll(drop)
	<-c.slots
}

// closeAll closes connections (with no lock held).
func closeAll(conns []*ldap.Conn) {
	for _, lc := range conns {
		_ = lc.Close()
	}
}

// dialBind opens a new connection (TLS as configured) and binds it as dn.
// Dialling is bounded by DialTimeout; StartTLS and the bind together by
// RequestTimeout (a server that accepts connections but never answers, as
// a frozen slapd does, cannot hold the caller longer).
func (c *Conn) dialBind(dn, password string) (*ldap.Conn, error) {
	lc, err := ldap.DialURL(c.cfg.URL,
		ldap.DialWithDialer(&net.Dialer{Timeout: c.cfg.DialTimeout}),
		ldap.DialWithTLSConfig(c.tls))
	if err != nil {
		return nil, fmt.Errorf("%w: connect to %s: %w", ErrUnavailable, c.cfg.URL, err)
	}
	lc.SetTimeout(c.cfg.RequestTimeout)
	var expired atomic.Bool
	guard := time.AfterFunc(c.cfg.RequestTimeout, func() {
		expired.Store(true)
		_ = lc.Close()
	})
	err = c.startBind(lc, dn, password)
	if !guard.Stop() || expired.Load() {
		_ = lc.Close()
		return nil, fmt.Errorf("%w: %s did not complete the bind within %s", ErrUnavailable, c.cfg.URL, c.cfg.RequestTimeout)
	}
	if err != nil {
		_ = lc.Close()
		return nil, err
	}
	return lc, nil
}

// startBind runs StartTLS (when configured) and the bind on a new
// connection.
func (c *Conn) startBind(lc *ldap.Conn, dn, password string) error {
	if c.cfg.StartTLS {
		if err := lc.StartTLS(c.tls); err != nil {
			if isConnError(err) {
				return fmt.Errorf("%w: StartTLS with %s: %w", ErrUnavailable, c.cfg.URL, err)
			}
			return fmt.Errorf("ldapsync: StartTLS with %s: %w", c.cfg.URL, err)
		}
	}
	if err := lc.Bind(dn, password); err != nil {
		if isConnError(err) {
			return fmt.Errorf("%w: bind to %s: %w", ErrUnavailable, c.cfg.URL, err)
		}
		return fmt.Errorf("ldapsync: bind as %s: %w", dn, err)
	}
	return nil
}

// do runs fn on a connection of its own; a connection failure drops the
// connection (the next call dials again) and is reported as ErrUnavailable.
func (c *Conn) do(fn func(*ldap.Conn) error) error {
	lc, gen, err := c.acquire()
	if err != nil {
		return err
	}
	err = fn(lc)
	broken := err != nil && (isConnError(err) || lc.IsClosing())
	c.release(lc, gen, broken)
	if broken {
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

// isRefusal reports whether err is the directory refusing one entry's data
// (a value its schema does not allow, a missing required attribute, a bad
// name): retrying cannot help until the data changes, and other entries are
// not concerned. An unreachable directory, a lack of rights or any other
// failure is not a refusal.
func isRefusal(err error) bool {
	return err != nil && !isConnError(err) && ldap.IsErrorAnyOf(err,
		ldap.LDAPResultUndefinedAttributeType, ldap.LDAPResultInappropriateMatching,
		ldap.LDAPResultConstraintViolation, ldap.LDAPResultInvalidAttributeSyntax,
		ldap.LDAPResultInvalidDNSyntax, ldap.LDAPResultNamingViolation,
		ldap.LDAPResultObjectClassViolation, ldap.LDAPResultNotAllowedOnRDN,
		ldap.LDAPResultObjectClassModsProhibited)
}

// refusalReason is the directory's own words for a refusal: its result code
// and diagnostic message.
func refusalReason(err error) string {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.Error()
	}
	return err.Error()
}

// Search runs req, following paged results with the configured page size
// (a base-object search, which returns one entry at most, is not paged).
func (c *Conn) Search(req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	var res *ldap.SearchResult
	err := c.do(func(lc *ldap.Conn) error {
		var err error
		if req.Scope == ldap.ScopeBaseObject {
			res, err = lc.Search(req)
		} else {
			res, err = lc.SearchWithPaging(req, uint32(c.cfg.PageSize))
		}
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

// Close closes the idle connections; those in use are closed when their
// operation ends. The Conn may still be used: it dials again.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.gen++
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	var errs []error
	for _, p := range idle {
		if err := p.c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// IsUnavailable reports whether err means the directory could not be reached.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }
