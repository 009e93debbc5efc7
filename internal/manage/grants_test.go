package manage_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/manage"
	"sesame/internal/store"
)

// drain marks every pending job done and returns them as "kind service"
// (the service's slug for provisioning jobs) or "kind".
func drain(t *testing.T, st store.Store, slugs map[string]string) []string {
	t.Helper()
	ctx := context.Background()
	js, err := st.ClaimJobs(ctx, store.ClaimRequest{Limit: 1000, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, j := range js {
		var ref struct {
			ServiceID  string   `json:"service_id"`
			ServiceIDs []string `json:"service_ids"`
		}
		_ = json.Unmarshal(j.Payload, &ref)
		s := j.Kind
		if ref.ServiceID != "" {
			s += " " + slugs[ref.ServiceID]
		}
		for _, id := range ref.ServiceIDs {
			s += " " + slugs[id]
		}
		out = append(out, s)
		if err := st.CompleteJob(ctx, j.ID, j.LeaseID); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

// TestSetGrants: a right added, changed and removed from the person page
// writes the grants, queues the directory entry, the email of a new
// access and the provisioning of the provisioned services concerned, with
// one audit entry each time; unknown roles, other structures' services
// and non-members are refused without a change.
func TestSetGrants(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { testSetGrants(t, backend) })
	}
}

func testSetGrants(t *testing.T, backend string) {
	ctx := context.Background()
	st := open(t, backend)
	m := &manage.Manager{Store: st}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	s := store.Structure{Slug: "le-beta", Name: "Le Bêta"}
	must(st.CreateStructure(ctx, &s))
	other := store.Structure{Slug: "autre", Name: "Autre"}
	must(st.CreateStructure(ctx, &other))
	cloud := store.Service{StructureID: s.ID, Kind: store.KindNextcloud, Slug: "cloud", Name: "Cloud", ClientID: "c1",
		ProvisioningSecret: []byte("sealed")}
	must(st.CreateService(ctx, &cloud))
	site := store.Service{StructureID: s.ID, Kind: store.ServiceKind("wordpress"), Slug: "site", Name: "Site", ClientID: "c2"}
	must(st.CreateService(ctx, &site))
	compta := store.Service{StructureID: s.ID, Kind: store.ServiceKind("paheko"), Slug: "compta", Name: "Compta", ClientID: "c3",
		Roles: []string{"Membres", "Bureau"}, ProvisioningSecret: []byte("sealed")}
	must(st.CreateService(ctx, &compta))
	theirs := store.Service{StructureID: other.ID, Kind: store.KindNextcloud, Slug: "cloud", Name: "Leur cloud", ClientID: "c4"}
	must(st.CreateService(ctx, &theirs))
	slugs := map[string]string{cloud.ID: "cloud", site.ID: "site", compta.ID: "compta", theirs.ID: "theirs"}

	p := store.Person{Username: "jean", Email: "jean@example.org", Language: "fr", State: store.StateActive, PasswordHash: "x"}
	must(st.CreatePerson(ctx, &p))
	must(st.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: s.ID}))
	must(st.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: site.ID, Role: "author"}))
	drain(t, st, slugs)

	grantsOf := func() map[string]string {
		t.Helper()
		gs, err := st.ListGrants(ctx, store.GrantFilter{PersonID: p.ID})
		must(err)
		out := map[string]string{}
		for _, g := range gs {
			out[slugs[g.ServiceID]] = g.Role
		}
		return out
	}
	audits := func() int {
		t.Helper()
		es, err := st.ListAudit(ctx, store.AuditFilter{Action: "person.grants"})
		must(err)
		return len(es)
	}
	eq := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("%s: %q, want %q", what, got, want)
		}
	}

	// Added (in French: "administrateur"), changed, and one already so.
	ch, err := m.SetGrants(ctx, "admin:root", s.ID, p.ID, map[string]string{cloud.ID: "administrateur", site.ID: "editor", compta.ID: "bureau"})
	must(err)
	if len(ch) != 3 {
		t.Fatalf("changes: %+v", ch)
	}
	if g := grantsOf(); g["cloud"] != "admin" || g["site"] != "editor" || g["compta"] != "Bureau" || len(g) != 3 {
		t.Fatalf("grants after adding: %v", g)
	}
	eq("jobs after adding", drain(t, st, slugs), []string{jobs.KindLDAPPerson, jobs.KindMailAccess + " cloud compta",
		jobs.KindProvisionAccount + " cloud", jobs.KindProvisionAccount + " compta"})
	es, err := st.ListAudit(ctx, store.AuditFilter{Action: "person.grants"})
	must(err)
	if len(es) != 1 || es[0].Actor != "admin:root" || es[0].PersonID != p.ID || es[0].StructureID != s.ID {
		t.Fatalf("audit: %+v", es)
	}

	// The same again: nothing changes, nothing is queued or recorded.
	ch, err = m.SetGrants(ctx, "admin:root", s.ID, p.ID, map[string]string{cloud.ID: "admin", site.ID: "editor"})
	must(err)
	if len(ch) != 0 || audits() != 1 {
		t.Fatalf("no-op: %+v, %d audit entries", ch, audits())
	}
	eq("jobs after a no-op", drain(t, st, slugs), nil)

	// Changed and removed; a service left out of the map keeps its right.
	_, err = m.SetGrants(ctx, "admin:root", s.ID, p.ID, map[string]string{cloud.ID: "user", compta.ID: ""})
	must(err)
	if g := grantsOf(); g["cloud"] != "user" || g["site"] != "editor" || len(g) != 2 {
		t.Fatalf("grants after changing: %v", g)
	}
	eq("jobs after changing", drain(t, st, slugs), []string{jobs.KindLDAPPerson,
		jobs.KindProvisionAccount + " cloud", jobs.KindProvisionAccount + " compta"})
	if audits() != 2 {
		t.Fatalf("audit entries: %d", audits())
	}

	// Refused, changing nothing: an unknown role, a category of another
	// service, another structure's service, a person of another structure.
	for _, bad := range []map[string]string{{site.ID: "emperor", cloud.ID: ""}, {cloud.ID: "Bureau"}, {theirs.ID: "user"}} {
		if _, err := m.SetGrants(ctx, "admin:root", s.ID, p.ID, bad); !errors.Is(err, manage.ErrBadRole) || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := m.SetGrants(ctx, "admin:root", other.ID, p.ID, map[string]string{theirs.ID: "user"}); !errors.Is(err, manage.ErrNotMember) {
		t.Errorf("not a member: %v", err)
	}
	if g := grantsOf(); g["cloud"] != "user" || g["site"] != "editor" || len(g) != 2 || audits() != 2 {
		t.Fatalf("a refused change changed something: %v", g)
	}
	eq("jobs after refusals", drain(t, st, slugs), nil)

	// An invited person given a service gets no access email (their
	// activation email covers it).
	inv := store.Person{Username: "nina", Email: "nina@example.org", Language: "fr", State: store.StateInvited}
	must(st.CreatePerson(ctx, &inv))
	must(st.PutMembership(ctx, store.Membership{PersonID: inv.ID, StructureID: s.ID}))
	_, err = m.SetGrants(ctx, "admin:root", s.ID, inv.ID, map[string]string{site.ID: "abonné"})
	must(err)
	eq("jobs for an invited person", drain(t, st, slugs), []string{jobs.KindLDAPPerson})
}
