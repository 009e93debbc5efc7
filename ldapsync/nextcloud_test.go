package ldapsync

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"sesame/internal/testenv"
)

// TestNextcloudUserLDAPQueries makes the queries Nextcloud's user_ldap app
// makes, bound as a read-only service account, against what a convergence
// wrote.
func TestNextcloudUserLDAPQueries(t *testing.T) {
	e := newEnv(t)
	l := e.syncer.Layout
	ctx := context.Background()

	const n = 1200
	var people []Person
	for i := range n {
		people = append(people, Person{Username: fmt.Sprintf("user%04d", i), GivenName: "User", FamilyName: fmt.Sprintf("N%04d", i),
			Email: fmt.Sprintf("user%04d@example.org", i), Groups: nextcloud("le-beta", "user")})
	}
	people[7].PasswordHash = hashPassword(t, "seven's password")
	people[8].Groups = nil // a member of no service
	want := State{People: people, Structures: []Structure{{Slug: "le-beta", Name: "Le Bêta", Groups: nextcloud("le-beta", "user")}}}
	e.converge(t, want)
	e.requireInSync(t, want)

	// The read-only account Nextcloud binds with.
	readerDN := "cn=nextcloud-reader," + l.Base
	add := ldap.NewAddRequest(readerDN, nil)
	add.Attribute("objectClass", []string{"applicationProcess", "simpleSecurityObject"})
	add.Attribute("cn", []string{"nextcloud-reader"})
	add.Attribute("userPassword", []string{"reader secret"})
	if err := e.conn.Add(add); err != nil {
		t.Fatal(err)
	}
	// The hoster lifts the total size limit of paged searches for this
	// account (docs/ldap.md), else slapd stops a listing at olcSizeLimit.
	e.setLimits(t, `dn.exact="`+readerDN+`" size.prtotal=unlimited`)

	nc, err := ldap.DialURL(e.slapd.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Bind(readerDN, "reader secret"); err != nil {
		t.Fatal(err)
	}
	mod := ldap.NewModifyRequest(l.PersonDN("user0001"), nil)
	mod.Replace("mail", []string{"evil@example.org"})
	if err := nc.Modify(mod); !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		t.Fatalf("the reader could write: %v", err)
	}

	groupDN := l.GroupDN("le-beta", "nextcloud", "")
	userFilter := "(&(objectClass=inetOrgPerson)(memberOf=" + EscapeFilterValue(groupDN) + "))"
	login := func(uid string) []*ldap.Entry {
		t.Helper()
		f := "(&" + userFilter + "(&(objectClass=inetOrgPerson)(|(uid=" + EscapeFilterValue(uid) + ")(mail=" + EscapeFilterValue(uid) + "))))"
		res, err := nc.Search(ldap.NewSearchRequest(l.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			f, []string{"uid", "mail", "displayName", "entryUUID", "memberOf"}, nil))
		if err != nil {
			t.Fatalf("login search %q: %v", uid, err)
		}
		return res.Entries
	}
	bare := func(uid string) int {
		t.Helper()
		res, err := nc.Search(ldap.NewSearchRequest(l.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(&(objectClass=inetOrgPerson)(|(uid="+EscapeFilterValue(uid)+")(mail="+EscapeFilterValue(uid)+")))", []string{"uid"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Entries)
	}

	// Login by uid and by mail, as the login filter does.
	for _, id := range []string{"user0007", "user0007@example.org"} {
		if got := bare(id); got != 1 {
			t.Fatalf("login filter %q: %d entries", id, got)
		}
		ents := login(id)
		if len(ents) != 1 || ents[0].GetAttributeValue("uid") != "user0007" || ents[0].GetAttributeValue("entryUUID") == "" {
			t.Fatalf("login %q: %v", id, ents)
		}
	}
	if got := login("user0008"); len(got) != 0 {
		t.Fatalf("a person with no grant matches the service's filter")
	}
	// Then Nextcloud binds as the DN it found.
	if err := e.bind(l.PersonDN("user0007"), "seven's password"); err != nil {
		t.Fatalf("bind as user0007: %v", err)
	}
	if err := e.bind(l.PersonDN("user0007"), "seven's passwort"); err == nil {
		t.Fatal("a wrong password binds")
	}

	// The user listing: paged (500 a page, like user_ldap), more than one
	// page, every entry with its entryUUID.
	req := ldap.NewSearchRequest(l.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		userFilter, []string{"uid", "entryUUID"}, nil)
	paging := ldap.NewControlPaging(500)
	req.Controls = []ldap.Control{paging}
	pages, total, uuids := 0, 0, map[string]bool{}
	for {
		res, err := nc.Search(req)
		if err != nil {
			t.Fatalf("paged search, page %d: %v", pages+1, err)
		}
		pages++
		total += len(res.Entries)
		for _, en := range res.Entries {
			u := en.GetAttributeValue("entryUUID")
			if u == "" || uuids[u] {
				t.Fatalf("%s: entryUUID %q missing or repeated", en.DN, u)
			}
			uuids[u] = true
		}
		ctl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok || len(ctl.Cookie) == 0 {
			break
		}
		paging.SetCookie(ctl.Cookie)
	}
	if total != n-1 || pages < 3 {
		t.Fatalf("paged listing: %d entries in %d pages, want %d in 3", total, pages, n-1)
	}

	// A disabled person no longer matches and cannot bind.
	seven := people[7]
	seven.Disabled, seven.Groups, seven.PasswordHash = true, nil, ""
	if err := e.syncer.ConvergePerson(ctx, seven); err != nil {
		t.Fatal(err)
	}
	if got := login("user0007"); len(got) != 0 {
		t.Fatalf("a disabled person still matches the service's login filter: %v", got[0].DN)
	}
	if err := e.bind(l.PersonDN("user0007"), "seven's password"); err == nil {
		t.Fatal("a disabled person can still bind")
	}
}

// setLimits adds an olcLimits value to the test database, offline (the
// test slapd has no writable cn=config): stop, slapmodify, start.
func (e *env) setLimits(t *testing.T, limits string) {
	t.Helper()
	e.slapd.Stop()
	ldif := filepath.Join(e.slapd.Dir, "limits.ldif")
	body := "dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nadd: olcLimits\nolcLimits: " + limits + "\n"
	if err := os.WriteFile(ldif, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, ok := testenv.LookBinary("slapmodify", "/usr/sbin")
	if !ok {
		testenv.Missing(t, "slapmodify is not installed")
	}
	if out, err := exec.Command(bin, "-q", "-n0", "-F", filepath.Join(e.slapd.Dir, "slapd.d"), "-l", ldif).CombinedOutput(); err != nil {
		t.Fatalf("slapmodify: %v\n%s", err, out)
	}
	e.slapd.Start()
}
