package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestPersonPasswordBind(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := Person{Username: "jean.dupont", GivenName: "Jean", FamilyName: "Dupont", DisplayName: "Jean Dupont",
		Email: "jean@example.org", Groups: nextcloud("le-beta", "user")}
	if err := e.syncer.ConvergePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	dn := e.syncer.Layout.PersonDN(p.Username)
	if err := e.bind(dn, "anything"); err == nil {
		t.Fatal("bind succeeded before any password was set")
	}
	p.PasswordHash = hashPassword(t, "correct horse battery staple")
	if err := e.syncer.ConvergePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := e.bind(dn, "correct horse battery staple"); err != nil {
		t.Fatalf("bind with the right password: %v", err)
	}
	if err := e.bind(dn, "correct horse battery stapler"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("bind with a wrong password: %v, want invalid credentials", err)
	}
	got := e.search(t, dn, "(objectClass=*)", "userPassword")[0].GetAttributeValue("userPassword")
	if got != "{ARGON2}"+p.PasswordHash {
		t.Fatalf("userPassword = %q, want the store's hash", got)
	}
	e.requireInSync(t, State{People: []Person{p}, Structures: []Structure{{Slug: "le-beta", Name: "LE-BETA", Groups: nextcloud("le-beta", "user")}}})

	// A new password replaces the old; the old no longer opens.
	p.PasswordHash = hashPassword(t, "another one entirely")
	if err := e.syncer.ConvergePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := e.bind(dn, "another one entirely"); err != nil {
		t.Fatalf("bind with the new password: %v", err)
	}
	if err := e.bind(dn, "correct horse battery staple"); err == nil {
		t.Fatal("the old password still opens")
	}

	// Not an argon2id hash: rejected, nothing written.
	bad := p
	bad.PasswordHash = "{SSHA}abcdef"
	if err := e.syncer.ConvergePerson(ctx, bad); !errors.Is(err, ErrRejected) {
		t.Fatalf("non-argon2id hash: %v, want ErrRejected", err)
	}
	if err := e.bind(dn, "another one entirely"); err != nil {
		t.Fatalf("a rejected hash changed the password: %v", err)
	}
}

func TestConvergePersonIsIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := Person{Username: "ana", GivenName: "Ana", FamilyName: "Lima", Email: "ana@example.org",
		PasswordHash: hashPassword(t, "pw pw pw pw"), Groups: nextcloud("s1", "admin")}
	for range 3 {
		if err := e.syncer.ConvergePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	ents := e.search(t, e.syncer.Layout.People(), "(uid=ana)", "entryCSN")
	if len(ents) != 1 {
		t.Fatalf("%d entries for ana", len(ents))
	}
	csn := ents[0].GetAttributeValue("entryCSN")
	if err := e.syncer.ConvergePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if again := e.search(t, e.syncer.Layout.People(), "(uid=ana)", "entryCSN")[0].GetAttributeValue("entryCSN"); again != csn {
		t.Fatalf("a converged person was modified again (entryCSN %s -> %s)", csn, again)
	}
	g := e.syncer.Layout.GroupDN("s1", "nextcloud", "admin")
	if got, want := e.members(t, g), keys(e.syncer.Layout.Placeholder(), e.syncer.Layout.PersonDN("ana")); !slices.Equal(got, want) {
		t.Fatalf("members of %s = %v, want %v", g, got, want)
	}
}

func TestHostileNamesLandExactly(t *testing.T) {
	e := newEnv(t)
	l := e.syncer.Layout
	var people []Person
	var roles []Group
	for i, name := range hostile {
		// Usernames are [a-z0-9.-] in the store, but the layer must not
		// depend on it: use the hostile names as usernames too.
		people = append(people, Person{
			Username: name, GivenName: name, FamilyName: name + " fam", DisplayName: "Disp " + name,
			Email: fmt.Sprintf("u%d@example.org", i),
			Groups: []Group{
				{Structure: "asso", Service: "paheko", ServiceName: "Paheko"},
				{Structure: "asso", Service: "paheko", ServiceName: "Paheko", Role: name},
			},
		})
		roles = append(roles, Group{Structure: "asso", Service: "paheko", ServiceName: "Paheko", Role: name})
	}
	want := State{People: people, Structures: []Structure{{Slug: "asso", Name: "L'Asso, \"la\" <vraie>", Groups: roles}}}
	e.converge(t, want)
	e.requireInSync(t, want)

	for _, p := range people {
		// Found by an escaped filter on each attribute.
		for attr, v := range map[string]string{"uid": p.Username, "givenName": p.GivenName, "sn": p.FamilyName, "displayName": p.DisplayName} {
			ents := e.search(t, l.People(), "(&(objectClass=inetOrgPerson)("+attr+"="+EscapeFilterValue(v)+"))", "uid", "givenName", "sn", "displayName", "cn")
			if len(ents) != 1 {
				t.Fatalf("(%s=%q): %d entries", attr, v, len(ents))
			}
			got := ents[0]
			if got.GetAttributeValue("uid") != p.Username || got.GetAttributeValue("givenName") != p.GivenName ||
				got.GetAttributeValue("sn") != p.FamilyName || got.GetAttributeValue("displayName") != p.DisplayName {
				t.Fatalf("%q came back as uid=%q givenName=%q sn=%q displayName=%q", p.Username,
					got.GetAttributeValue("uid"), got.GetAttributeValue("givenName"), got.GetAttributeValue("sn"), got.GetAttributeValue("displayName"))
			}
			dn, err := ldap.ParseDN(got.DN)
			if err != nil {
				t.Fatalf("the server's DN %q does not parse: %v", got.DN, err)
			}
			if v := dn.RDNs[0].Attributes[0].Value; v != p.Username {
				t.Fatalf("the DN's uid is %q, want %q", v, p.Username)
			}
		}
		// The role group, named after the hostile role, holds the person.
		g := l.GroupDN("asso", "paheko", p.GivenName)
		ents := e.search(t, l.Structures(), "(&(objectClass=groupOfNames)(member="+EscapeFilterValue(l.PersonDN(p.Username))+"))", "cn")
		var cns []string
		for _, en := range ents {
			cns = append(cns, en.GetAttributeValue("cn"))
		}
		if !slices.Contains(cns, "paheko-"+p.GivenName) || !slices.Contains(cns, "paheko") || len(cns) != 2 {
			t.Fatalf("%q is in groups %q, want paheko and %q", p.Username, cns, "paheko-"+p.GivenName)
		}
		if got, want := e.members(t, g), keys(l.Placeholder(), l.PersonDN(p.Username)); !slices.Equal(got, want) {
			t.Fatalf("members of %s = %v, want %v", g, got, want)
		}
	}
	st := e.search(t, l.StructureDN("asso"), "(objectClass=organization)", "description")
	if got := st[0].GetAttributeValue("description"); got != "L'Asso, \"la\" <vraie>" {
		t.Fatalf("structure description = %q", got)
	}
}

func TestRolesMoveAndGroupsEmpty(t *testing.T) {
	e := newEnv(t)
	l := e.syncer.Layout
	ctx := context.Background()
	st := Structure{Slug: "le-beta", Name: "Le Bêta", Groups: []Group{
		{Structure: "le-beta", Service: "nextcloud"}, {Structure: "le-beta", Service: "nextcloud", Role: "user"},
		{Structure: "le-beta", Service: "nextcloud", Role: "admin"}}}
	alice := Person{Username: "alice", FamilyName: "A", Groups: nextcloud("le-beta", "user")}
	bob := Person{Username: "bob", FamilyName: "B", Groups: nextcloud("le-beta", "user")}
	want := State{Structures: []Structure{st}, People: []Person{alice, bob}}
	e.converge(t, want)
	user, admin, svc := l.GroupDN("le-beta", "nextcloud", "user"), l.GroupDN("le-beta", "nextcloud", "admin"), l.GroupDN("le-beta", "nextcloud", "")
	if got := e.members(t, admin); !slices.Equal(got, keys(l.Placeholder())) {
		t.Fatalf("an empty role group holds %v", got)
	}
	if got := e.members(t, user); !slices.Equal(got, keys(l.Placeholder(), l.PersonDN("alice"), l.PersonDN("bob"))) {
		t.Fatalf("user group holds %v", got)
	}

	// Alice becomes admin: the job moves her.
	alice.Groups = nextcloud("le-beta", "admin")
	if err := e.syncer.ConvergePerson(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if got := e.members(t, admin); !slices.Equal(got, keys(l.Placeholder(), l.PersonDN("alice"))) {
		t.Fatalf("admin group holds %v", got)
	}
	if got := e.members(t, user); !slices.Equal(got, keys(l.Placeholder(), l.PersonDN("bob"))) {
		t.Fatalf("user group holds %v", got)
	}
	// memberOf follows (the overlay), as Nextcloud reads it.
	mo := e.search(t, l.PersonDN("alice"), "(objectClass=*)", "memberOf")[0].GetAttributeValues("memberOf")
	if got := keys(mo...); !slices.Equal(got, keys(admin, svc)) {
		t.Fatalf("alice memberOf = %v", mo)
	}

	// Bob leaves the structure: the bulk sync removes him from every group,
	// the group stays valid with its placeholder.
	bob.Groups = nil
	want = State{Structures: []Structure{st}, People: []Person{alice, bob}}
	plan := e.converge(t, want)
	if c := plan.Counts(); c[OpModify] != 2 {
		t.Fatalf("plan %v:\n%s", c, plan)
	}
	if got := e.members(t, user); !slices.Equal(got, keys(l.Placeholder())) {
		t.Fatalf("user group holds %v after bob left", got)
	}
	e.requireInSync(t, want)
}

func TestForeignEntriesAreLeftAlone(t *testing.T) {
	e := newEnv(t)
	l := e.syncer.Layout
	ctx := context.Background()
	// An entry the hoster made by hand, where sesame would put a person,
	// and a foreign group inside a managed structure.
	add := ldap.NewAddRequest(l.PersonDN("admin.local"), nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("uid", []string{"admin.local"})
	add.Attribute("cn", []string{"Local admin"})
	add.Attribute("sn", []string{"Admin"})
	if err := e.conn.Add(add); err != nil {
		t.Fatal(err)
	}
	p := Person{Username: "admin.local", FamilyName: "Other", Groups: nextcloud("s", "")}
	err := e.syncer.ConvergePerson(ctx, p)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("converging over a foreign entry: %v, want ErrRejected", err)
	}
	if sn := e.search(t, l.PersonDN("admin.local"), "(objectClass=*)", "sn")[0].GetAttributeValue("sn"); sn != "Admin" {
		t.Fatalf("the foreign entry was changed: sn=%q", sn)
	}
	want := State{Structures: []Structure{{Slug: "s", Groups: nextcloud("s", "")}},
		People: []Person{{Username: "zoe", FamilyName: "Z", Groups: nextcloud("s", "")}}}
	e.converge(t, want)
	foreign := ldap.NewAddRequest("cn=hand-made,"+l.StructureDN("s"), nil)
	foreign.Attribute("objectClass", []string{"groupOfNames"})
	foreign.Attribute("cn", []string{"hand-made"})
	foreign.Attribute("member", []string{l.PersonDN("zoe")})
	if err := e.conn.Add(foreign); err != nil {
		t.Fatal(err)
	}
	// A full sync deletes managed extras only: the foreign person and
	// group stay, and the plan is empty.
	e.converge(t, want)
	e.requireInSync(t, want)
	if n := len(e.search(t, l.Base, "(|(cn=hand-made)(uid=admin.local))", "1.1")); n != 2 {
		t.Fatalf("foreign entries left: %d, want 2", n)
	}
	// The person job does not remove zoe from the foreign group either.
	if err := e.syncer.ConvergePerson(ctx, Person{Username: "zoe", FamilyName: "Z"}); err != nil {
		t.Fatal(err)
	}
	if got := e.members(t, "cn=hand-made,"+l.StructureDN("s")); !slices.Equal(got, keys(l.PersonDN("zoe"))) {
		t.Fatalf("foreign group members: %v", got)
	}
	// The conflict is reported when the store wants that person.
	want.People = append(want.People, p)
	plan, err := e.syncer.Diff(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if c := plan.Conflicts(); len(c) != 1 || !strings.Contains(c[0].String(), "admin.local") {
		t.Fatalf("conflicts: %v", c)
	}
	// Converging does not put the foreign entry in the person's groups
	// (that would hand it the person's access).
	e.converge(t, want)
	if got := e.members(t, l.GroupDN("s", "nextcloud", "")); !slices.Equal(got, keys(l.Placeholder(), l.PersonDN("zoe"))) {
		t.Fatalf("service group members: %v", got)
	}
}

func TestDisabledPersonLeavesGroupsAndCannotBind(t *testing.T) {
	e := newEnv(t)
	l := e.syncer.Layout
	ctx := context.Background()
	p := Person{Username: "paul", FamilyName: "P", PasswordHash: hashPassword(t, "s3cret pass"), Groups: nextcloud("s", "user")}
	if err := e.syncer.ConvergePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := e.bind(l.PersonDN("paul"), "s3cret pass"); err != nil {
		t.Fatal(err)
	}
	p.Disabled, p.Groups, p.PasswordHash = true, nil, ""
	if err := e.syncer.ConvergePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := e.bind(l.PersonDN("paul"), "s3cret pass"); err == nil {
		t.Fatal("a disabled person can still bind")
	}
	if ents := e.search(t, l.Structures(), "(member="+EscapeFilterValue(l.PersonDN("paul"))+")", "1.1"); len(ents) != 0 {
		t.Fatalf("a disabled person is still in %d groups", len(ents))
	}
	ent := e.search(t, l.PersonDN("paul"), "(objectClass=*)", "userPassword", "memberOf")[0]
	if len(ent.GetAttributeValues("userPassword")) != 0 || len(ent.GetAttributeValues("memberOf")) != 0 {
		t.Fatalf("disabled entry keeps password or memberOf: %v", ent.Attributes)
	}
}

func TestContainersAreCreated(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	base := "ou=fresh," + e.slapd.BaseDN
	add := ldap.NewAddRequest(base, nil)
	add.Attribute("objectClass", []string{"organizationalUnit"})
	add.Attribute("ou", []string{"fresh"})
	if err := e.conn.Add(add); err != nil {
		t.Fatal(err)
	}
	s := copyOf(e.syncer)
	s.Layout = Layout{Base: base}
	p := Person{Username: "first", FamilyName: "F", Groups: nextcloud("s", "user")}
	if err := s.ConvergePerson(ctx, p); err != nil {
		t.Fatalf("person job into an empty base: %v", err)
	}
	base2 := "ou=fresh2," + e.slapd.BaseDN
	add = ldap.NewAddRequest(base2, nil)
	add.Attribute("objectClass", []string{"organizationalUnit"})
	add.Attribute("ou", []string{"fresh2"})
	if err := e.conn.Add(add); err != nil {
		t.Fatal(err)
	}
	s.Layout = Layout{Base: base2}
	want := State{People: []Person{p}, Structures: []Structure{{Slug: "s", Groups: nextcloud("s", "user")}}}
	if _, _, err := s.Converge(ctx, want); err != nil {
		t.Fatalf("sync into an empty base: %v", err)
	}
	if plan, err := s.Diff(ctx, want); err != nil || !plan.Empty() {
		t.Fatalf("after sync: %v\n%s", err, plan)
	}
}

func TestDiffShowsChangesButNoHashes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	st := Structure{Slug: "s", Name: "S", Groups: nextcloud("s", "user")}
	p := Person{Username: "dora", GivenName: "Dora", FamilyName: "D", Email: "dora@example.org",
		PasswordHash: hashPassword(t, "first"), Groups: nextcloud("s", "user")}
	extra := Person{Username: "gone", FamilyName: "G", Groups: nextcloud("s", "user")}
	e.converge(t, State{Structures: []Structure{st}, People: []Person{p, extra}})

	p.Email, p.PasswordHash, p.Groups = "dora@new.example.org", hashPassword(t, "second"), nextcloud("s", "admin")
	st.Name = "S renamed"
	want := State{Structures: []Structure{st}, People: []Person{p}}
	plan, err := e.syncer.Diff(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	out := plan.String()
	for _, s := range []string{
		`~ structure o=s,`, `description: "S" -> "S renamed"`,
		`~ person uid=dora,`, `mail: "dora@example.org" -> "dora@new.example.org"`, `userPassword: (a hash) -> (a hash)`,
		`+ group cn=nextcloud-admin,o=s,`, `- member uid=gone,`, `- member uid=dora,`,
		`- person uid=gone,ou=people,dc=example,dc=org (extra)`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("diff lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "argon2") {
		t.Fatalf("the diff shows a hash:\n%s", out)
	}
	if c := plan.Counts(); c[OpDelete] != 1 {
		t.Fatalf("counts %v", c)
	}
	e.converge(t, want)
	e.requireInSync(t, want)
	if err := e.bind(e.syncer.Layout.PersonDN("dora"), "second"); err != nil {
		t.Fatal(err)
	}
}
