package ldapsync

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"golang.org/x/crypto/argon2"
)

// CheckResult is the outcome of one check, in plain words.
type CheckResult struct {
	Name   string
	OK     bool
	Detail string
}

// Report is the outcome of Conn.Check.
type Report struct {
	Results []CheckResult
}

// OK reports whether every check passed.
func (r Report) OK() bool {
	for _, c := range r.Results {
		if !c.OK {
			return false
		}
	}
	return len(r.Results) > 0
}

// String renders the report, one line per check.
func (r Report) String() string {
	var b strings.Builder
	for _, c := range r.Results {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "[%s] %s: %s\n", mark, c.Name, c.Detail)
	}
	return b.String()
}

// Check connects, binds, and tells whether the directory can hold what
// sesame writes: the base entry, ou=people and ou=structures, the argon2
// module (a probe entry with an {ARGON2} password must accept its password
// and refuse another) and the memberof overlay (a probe group must show in
// the probe entry's memberOf). Probe entries are removed afterwards.
func (c *Conn) Check(ctx context.Context) Report {
	var r Report
	add := func(name string, ok bool, format string, args ...any) {
		r.Results = append(r.Results, CheckResult{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	if err := c.Connect(); err != nil {
		add("connection", false, "cannot connect and bind as %s to %s: %v", c.cfg.BindDN, c.cfg.URL, err)
		return r
	}
	add("connection", true, "connected to %s and bound as %s", c.cfg.URL, c.cfg.BindDN)

	l := Layout{Base: c.cfg.BaseDN}
	ok, err := exists(c, l.Base)
	switch {
	case err != nil:
		add("base", false, "cannot read the base %s: %v", l.Base, err)
		return r
	case !ok:
		add("base", false, "the base entry %s does not exist (or the bind account cannot see it)", l.Base)
		return r
	}
	add("base", true, "the base entry %s exists", l.Base)
	for _, dn := range []string{l.People(), l.Structures()} {
		ok, err := exists(c, dn)
		switch {
		case err != nil:
			add(dn, false, "cannot read %s: %v", dn, err)
		case ok:
			add(dn, true, "%s exists", dn)
		default:
			add(dn, true, "%s does not exist yet; sesame creates it on the first sync", dn)
		}
	}
	if ctx.Err() != nil {
		add("probes", false, "interrupted: %v", ctx.Err())
		return r
	}

	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	probe := "uid=sesame-probe-" + hex.EncodeToString(nonce[:]) + "," + l.Base
	group := "cn=sesame-probe-" + hex.EncodeToString(nonce[:]) + "," + l.Base
	var secret [18]byte
	_, _ = rand.Read(secret[:])
	password := base64.RawURLEncoding.EncodeToString(secret[:])

	req := ldap.NewAddRequest(probe, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
	req.Attribute("uid", []string{"sesame-probe-" + hex.EncodeToString(nonce[:])})
	req.Attribute("cn", []string{"sesame probe"})
	req.Attribute("sn", []string{"probe"})
	if c.cfg.PasswordScheme == SchemeArgon2 {
		req.Attribute("userPassword", []string{passwordValue(probeHash(password))})
	}
	if err := c.Add(req); err != nil {
		add("write", false, "cannot add a probe entry %s: %v (does %s have write access?)", probe, err, c.cfg.BindDN)
		return r
	}
	defer func() { _ = c.Del(ldap.NewDelRequest(probe, nil)) }()
	add("write", true, "the bind account can add entries")

	if c.cfg.PasswordScheme == SchemeArgon2 {
		good, goodErr := c.tryBind(probe, password)
		bad, _ := c.tryBind(probe, password+"x")
		switch {
		case good && !bad:
			add("argon2", true, "slapd verifies {ARGON2} argon2id hashes: the probe's password opens it and a wrong one does not")
		case good && bad:
			add("argon2", false, "slapd accepted a wrong password for the probe entry: password checks are broken")
		default:
			add("argon2", false, "slapd refused the probe's right password (%v): load the argon2 module "+
				"(olcModuleLoad: argon2) or set ldap.password_scheme to none (see docs/ldap.md)", goodErr)
		}
	} else {
		add("argon2", true, "not needed: password_scheme is none, sesame writes no passwords")
	}

	greq := ldap.NewAddRequest(group, nil)
	greq.Attribute("objectClass", []string{"top", "groupOfNames"})
	greq.Attribute("cn", []string{"sesame-probe-" + hex.EncodeToString(nonce[:])})
	greq.Attribute("member", []string{probe})
	if err := c.Add(greq); err != nil {
		add("memberof", false, "cannot add a probe group %s: %v", group, err)
		return r
	}
	defer func() { _ = c.Del(ldap.NewDelRequest(group, nil)) }()
	e, err := readEntry(c, probe, []string{"memberOf"})
	switch {
	case err != nil || e == nil:
		add("memberof", false, "cannot read the probe entry back: %v", err)
	case func() bool {
		for _, v := range e.GetEqualFoldAttributeValues("memberOf") {
			if dnKey(v) == dnKey(group) {
				return true
			}
		}
		return false
	}():
		add("memberof", true, "the memberof overlay maintains memberOf (services can filter people by group)")
	default:
		add("memberof", false, "memberOf was not set on the probe entry: enable the memberof overlay "+
			"(olcOverlay: memberof, with groupOfNames and member) so services can filter people by group")
	}
	return r
}

// tryBind binds a fresh connection as dn.
func (c *Conn) tryBind(dn, password string) (bool, error) {
	lc, err := c.dialBind(dn, password)
	if err != nil {
		return false, err
	}
	_ = lc.Close()
	return true, nil
}

// probeHash hashes a probe password the way sesame hashes people's.
func probeHash(password string) string {
	var salt [16]byte
	_, _ = rand.Read(salt[:])
	const m, t, p = 19456, 2, 1
	key := argon2.IDKey([]byte(password), salt[:], t, m, p, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p, enc.EncodeToString(salt[:]), enc.EncodeToString(key))
}
