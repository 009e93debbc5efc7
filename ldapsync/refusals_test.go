package ldapsync

import (
	"context"
	"slices"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// TestPersonJobLeavesForeignGroupAtAGroupDNAlone: a group the hoster made
// by hand (no businessCategory=sesame) sits at the DN of a group sesame
// wants, in a managed structure. A full sync reports it as a conflict and
// leaves it alone; the person paths (ConvergePerson, the batch's
// ConvergePeople) must too. Before, they added the person to the foreign
// group (changing an entry sesame does not own) and, because the groups a
// person is taken out of are read among managed groups only, never took
// them out again once the grant ended: access kept for good.
func TestPersonJobLeavesForeignGroupAtAGroupDNAlone(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "person", true: "batch"}[batch], func(t *testing.T) {
			e := newEnv(t)
			l := e.syncer.Layout
			ctx := context.Background()
			// A managed structure "s" (sesame made it), and a hand-made
			// group at the DN of its Nextcloud admin group.
			e.converge(t, State{Structures: []Structure{{Slug: "s", Name: "S"}}})
			gdn := l.GroupDN("s", "nextcloud", "admin")
			foreign := ldap.NewAddRequest(gdn, nil)
			foreign.Attribute("objectClass", []string{"groupOfNames"})
			foreign.Attribute("cn", []string{"nextcloud-admin"})
			foreign.Attribute("member", []string{"cn=hoster,dc=example,dc=org"})
			if err := e.conn.Add(foreign); err != nil {
				t.Fatal(err)
			}
			run := func(p Person) error {
				if batch {
					return e.syncer.ConvergePeople(ctx, []Person{p})[0]
				}
				return e.syncer.ConvergePerson(ctx, p)
			}
			p := Person{Username: "paul", FamilyName: "P", Groups: nextcloud("s", "admin")}
			_ = run(p) // refusing (ErrRejected) is fine; touching the group is not
			if got := e.members(t, gdn); !slices.Equal(got, keys("cn=hoster,dc=example,dc=org")) {
				t.Errorf("the foreign group was changed: members %v", got)
			}
			// The grant ends: paul must be in no group sesame put him in.
			p.Groups = nil
			if err := run(p); err != nil {
				t.Fatal(err)
			}
			if ents := e.search(t, l.Structures(), "(member="+EscapeFilterValue(l.PersonDN("paul"))+")", "1.1"); len(ents) != 0 {
				t.Fatalf("paul, without any grant, is still in %d group(s), e.g. %s", len(ents), ents[0].DN)
			}
		})
	}
}

// TestDisabledPersonLosesPasswordEvenWhenAnotherAttributeIsRefused: a
// person is disabled while their store record holds a value slapd
// refuses (here a mail that is not IA5: an address stored by an earlier
// version, or written by hand). Every attribute change of the entry went in
// one modify, so slapd's refusal of the mail also kept the userPassword
// the disable was to remove: the disabled person could still bind to every
// service that authenticates against the directory.
func TestDisabledPersonLosesPasswordEvenWhenAnotherAttributeIsRefused(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "person", true: "batch"}[batch], func(t *testing.T) {
			e := newEnv(t)
			l := e.syncer.Layout
			ctx := context.Background()
			run := func(p Person) error {
				if batch {
					return e.syncer.ConvergePeople(ctx, []Person{p})[0]
				}
				return e.syncer.ConvergePerson(ctx, p)
			}
			p := Person{Username: "paul", FamilyName: "P", Email: "paul@example.org",
				PasswordHash: hashPassword(t, "s3cret pass"), Groups: nextcloud("s", "user")}
			if err := run(p); err != nil {
				t.Fatal(err)
			}
			if err := e.bind(l.PersonDN("paul"), "s3cret pass"); err != nil {
				t.Fatal(err)
			}
			p.Disabled, p.Groups, p.PasswordHash = true, nil, ""
			p.Email = "paul@exämple.org"
			_ = run(p) // the refused mail is reported (RefusedError): fine
			if err := e.bind(l.PersonDN("paul"), "s3cret pass"); err == nil {
				t.Fatal("a disabled person can still bind with their password")
			}
		})
	}
}
