package storetest

import (
	"time"

	"sesame/internal/store"
)

// testAdmins checks the hoster admin flag: kept by create and update, and
// listed alone by PeopleFilter.Admin.
func testAdmins(e *env) {
	a := store.Person{Username: "root", Email: "root@example.org", Admin: true}
	e.ok(e.st.CreatePerson(e.ctx, &a), "create admin")
	got, err := e.st.GetPerson(e.ctx, a.ID)
	e.ok(err, "get admin")
	if !got.Admin {
		e.t.Fatal("admin flag not kept by create")
	}
	p := e.person("paul")
	if p.Admin {
		e.t.Fatal("a person is not an admin by default")
	}
	up, err := e.st.UpdatePerson(e.ctx, p.ID, func(x *store.Person) error { x.Admin = true; return nil })
	e.ok(err, "make admin")
	if got, _ := e.st.GetPerson(e.ctx, p.ID); !got.Admin || !up.Admin {
		e.t.Fatal("admin flag not kept by update")
	}
	e.person("zoe")
	admins, err := e.st.ListPeople(e.ctx, store.PeopleFilter{Admin: true})
	e.ok(err, "list admins")
	if len(admins) != 2 || admins[0].Username != "paul" || admins[1].Username != "root" {
		e.t.Fatalf("admins = %+v", admins)
	}
	_, err = e.st.UpdatePerson(e.ctx, a.ID, func(x *store.Person) error { x.Admin = false; return nil })
	e.ok(err, "remove admin")
	admins, _ = e.st.ListPeople(e.ctx, store.PeopleFilter{Admin: true})
	if len(admins) != 1 || admins[0].Username != "paul" {
		e.t.Fatalf("admins after removal = %+v", admins)
	}
}

// testDeletes checks DeletePerson, DeleteService and DeleteStructure, and
// what goes with each.
func testDeletes(e *env) {
	s := e.structure("s")
	other := e.structure("o")
	svc := e.service(s.ID, "cloud")
	keep := e.service(other.ID, "cloud")
	p := e.person("p")
	q := e.person("q")
	for _, x := range []store.Person{p, q} {
		e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: x.ID, StructureID: s.ID}), "membership")
		e.ok(e.st.PutGrant(e.ctx, store.Grant{PersonID: x.ID, ServiceID: svc.ID, Role: "user"}), "grant")
		e.ok(e.st.PutProvision(e.ctx, store.Provision{PersonID: x.ID, ServiceID: svc.ID, Status: store.ProvisionDone}), "provision")
	}
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: q.ID, StructureID: other.ID}), "membership in o")
	e.ok(e.st.PutGrant(e.ctx, store.Grant{PersonID: q.ID, ServiceID: keep.ID, Role: "user"}), "grant in o")
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("t"), PersonID: p.ID, Purpose: store.PurposeActivate,
		ExpiresAt: e.now().Add(time.Hour), CreatedAt: e.now()}), "token")

	// A person goes with their memberships, grants, tokens, provisions.
	e.ok(e.st.DeletePerson(e.ctx, p.ID), "delete person")
	e.is(e.st.DeletePerson(e.ctx, p.ID), store.ErrNotFound, "delete person again")
	_, err := e.st.GetPerson(e.ctx, p.ID)
	e.is(err, store.ErrNotFound, "get deleted person")
	_, err = e.st.GetToken(e.ctx, hash("t"))
	e.is(err, store.ErrNotFound, "token of a deleted person")
	if ms, _ := e.st.ListMemberships(e.ctx, store.MembershipFilter{PersonID: p.ID}); len(ms) != 0 {
		e.t.Fatalf("memberships of a deleted person: %+v", ms)
	}
	if gs, _ := e.st.ListGrants(e.ctx, store.GrantFilter{PersonID: p.ID}); len(gs) != 0 {
		e.t.Fatalf("grants of a deleted person: %+v", gs)
	}
	if ps, _ := e.st.ListProvisions(e.ctx, store.ProvisionFilter{PersonID: p.ID}); len(ps) != 0 {
		e.t.Fatalf("provisions of a deleted person: %+v", ps)
	}

	// A service goes with its grants and provisions; the person stays.
	e.ok(e.st.DeleteService(e.ctx, svc.ID), "delete service")
	e.is(e.st.DeleteService(e.ctx, svc.ID), store.ErrNotFound, "delete service again")
	_, err = e.st.GetServiceByClientID(e.ctx, svc.ClientID)
	e.is(err, store.ErrNotFound, "client of a deleted service")
	if gs, _ := e.st.ListGrants(e.ctx, store.GrantFilter{PersonID: q.ID}); len(gs) != 1 || gs[0].ServiceID != keep.ID {
		e.t.Fatalf("grants after service delete: %+v", gs)
	}
	if ps, _ := e.st.ListProvisions(e.ctx, store.ProvisionFilter{PersonID: q.ID}); len(ps) != 0 {
		e.t.Fatalf("provisions after service delete: %+v", ps)
	}

	// A structure goes with its services and memberships; people stay.
	svc2 := e.service(s.ID, "blog")
	e.ok(e.st.PutGrant(e.ctx, store.Grant{PersonID: q.ID, ServiceID: svc2.ID, Role: "user"}), "grant on blog")
	e.ok(e.st.DeleteStructure(e.ctx, s.ID), "delete structure")
	e.is(e.st.DeleteStructure(e.ctx, s.ID), store.ErrNotFound, "delete structure again")
	_, err = e.st.GetService(e.ctx, svc2.ID)
	e.is(err, store.ErrNotFound, "service of a deleted structure")
	if ms, _ := e.st.ListMemberships(e.ctx, store.MembershipFilter{PersonID: q.ID}); len(ms) != 1 || ms[0].StructureID != other.ID {
		e.t.Fatalf("memberships after structure delete: %+v", ms)
	}
	if gs, _ := e.st.ListGrants(e.ctx, store.GrantFilter{PersonID: q.ID}); len(gs) != 1 || gs[0].ServiceID != keep.ID {
		e.t.Fatalf("grants after structure delete: %+v", gs)
	}
	if _, err := e.st.GetPerson(e.ctx, q.ID); err != nil {
		e.t.Fatalf("a member outlives the structure: %v", err)
	}
}
