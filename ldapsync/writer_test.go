package ldapsync

import (
	"context"
	"log/slog"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// TestNonRootWriter converges as a dedicated account (as in production),
// not the root DN: ppolicy's hash-cleartext must leave {ARGON2} values as
// they are, and the ACL docs/ldap.md gives must be enough.
func TestNonRootWriter(t *testing.T) {
	e := newEnv(t)
	writer := "cn=sesame," + e.slapd.BaseDN
	add := ldap.NewAddRequest(writer, nil)
	add.Attribute("objectClass", []string{"applicationProcess", "simpleSecurityObject"})
	add.Attribute("cn", []string{"sesame"})
	add.Attribute("userPassword", []string{"writer secret"})
	if err := e.conn.Add(add); err != nil {
		t.Fatal(err)
	}
	e.slapmodifyConfig(t, `dn: olcDatabase={1}mdb,cn=config
changetype: modify
add: olcAccess
olcAccess: {0}to dn.subtree="`+e.slapd.BaseDN+`" by dn.exact="`+writer+`" write by * break
`)
	conn, err := NewConn(Config{URL: e.slapd.URL, BindDN: writer, BindPassword: "writer secret", BaseDN: e.slapd.BaseDN})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if r := conn.Check(context.Background()); !r.OK() {
		t.Fatalf("check as the writer:\n%s", r)
	}
	s := New(conn, nil, slog.New(slog.DiscardHandler))
	p := Person{Username: "nina", FamilyName: "N", PasswordHash: hashPassword(t, "nina's password"), Groups: nextcloud("s", "user")}
	want := State{People: []Person{p}, Structures: []Structure{{Slug: "s", Groups: nextcloud("s", "user")}}}
	if _, _, err := s.Converge(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	if err := e.bind(e.syncer.Layout.PersonDN("nina"), "nina's password"); err != nil {
		t.Fatalf("bind after a write by the non-root account: %v", err)
	}
	got := e.search(t, e.syncer.Layout.PersonDN("nina"), "(objectClass=*)", "userPassword")[0].GetAttributeValue("userPassword")
	if got != "{ARGON2}"+p.PasswordHash {
		t.Fatalf("userPassword was rewritten: %q", got)
	}
	plan, err := s.Diff(context.Background(), want)
	if err != nil || !plan.Empty() {
		t.Fatalf("diff as the writer: %v\n%s", err, plan)
	}
}
