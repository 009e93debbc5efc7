package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/store"
)

// Opener returns a fresh, migrated, empty store whose clock is now.
type Opener func(t *testing.T, now func() time.Time) store.Store

// Clock is a settable clock for the store under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to a fixed instant with sub-microsecond
// digits (which the store drops).
func NewClock() *Clock {
	return &Clock{t: time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.FixedZone("CET", 3600))}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one subtest's store and clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    store.Store
	clock *Clock
}

// Run runs the conformance suite, each subtest on a store of its own, in
// parallel.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*env)
	}{
		{"Structures", testStructures},
		{"Services", testServices},
		{"People", testPeople},
		{"PeopleEmailFolded", testPeopleEmailFolded},
		{"UpdateClosures", testUpdateClosures},
		{"Memberships", testMemberships},
		{"FormerMemberships", testFormerMemberships},
		{"FormerMembershipsNotForAdmins", testFormerMembershipsNotForAdmins},
		{"FormerMembershipOfAnAdminFromBefore", testFormerMembershipOfAnAdminFromBefore},
		{"Admins", testAdmins},
		{"Deletes", testDeletes},
		{"Grants", testGrants},
		{"Provisions", testProvisions},
		{"Tokens", testTokens},
		{"TokenIssueInvalidates", testTokenIssueInvalidates},
		{"TokenConsumeConcurrent", testTokenConsumeConcurrent},
		{"Imports", testImports},
		{"Audit", testAudit},
		{"InTxCommitRollback", testInTx},
		{"InTxConflictKeepsTx", testInTxConflict},
		{"JobsEnqueueDedupe", testJobsDedupe},
		{"JobsClaim", testJobsClaim},
		{"JobsLeaseExpiry", testJobsLeaseExpiry},
		{"JobsFencing", testJobsFencing},
		{"JobsRetryBury", testJobsRetryBury},
		{"JobsRetryDedupeConflict", testJobsRetryDedupe},
		{"JobsRequeue", testJobsRequeue},
		{"JobsClaimConcurrent", testJobsClaimConcurrent},
		{"JobsDisabledSinks", testJobsDisabledSinks},
		{"JobsClearPending", testJobsClearPending},
		{"JobsFinishBatch", testJobsFinishBatch},
		{"JobsFinishRetryDedupe", testJobsFinishRetryDedupe},
		{"JobsClaimFinishConcurrent", testJobsClaimFinishConcurrent},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Times", testTimes},
	}
	tests = append(tests, dataTests...)
	tests = append(tests, limitTests...)
	tests = append(tests, batchTests...)
	tests = append(tests, pendingTests...)
	tests = append(tests, factorTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := NewClock()
			st := open(t, c.Now)
			tc.fn(&env{t: t, ctx: context.Background(), st: st, clock: c})
		})
	}
}

func (e *env) now() time.Time { return e.clock.Now().UTC().Truncate(time.Microsecond) }

func (e *env) ok(err error, what string) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

func (e *env) is(err, want error, what string) {
	e.t.Helper()
	if !errors.Is(err, want) {
		e.t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func (e *env) structure(slug string) store.Structure {
	e.t.Helper()
	s := store.Structure{Slug: slug, Name: "Structure " + slug, Contact: "ref@" + slug + ".org"}
	e.ok(e.st.CreateStructure(e.ctx, &s), "create structure "+slug)
	return s
}

func (e *env) service(structureID, slug string) store.Service {
	e.t.Helper()
	s := store.Service{StructureID: structureID, Kind: store.KindNextcloud, Slug: slug, Name: "Nextcloud",
		ClientID: "client-" + slug + "-" + structureID}
	e.ok(e.st.CreateService(e.ctx, &s), "create service "+slug)
	return s
}

func (e *env) person(username string) store.Person {
	e.t.Helper()
	p := store.Person{Username: username, Email: username + "@example.org", GivenName: "Given", FamilyName: username,
		Language: "fr", State: store.StateInvited}
	e.ok(e.st.CreatePerson(e.ctx, &p), "create person "+username)
	return p
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func testStructures(e *env) {
	s := store.Structure{Slug: "le-beta", Name: "Le Bêta", Contact: "bureau@lebeta.org"}
	e.ok(e.st.CreateStructure(e.ctx, &s), "create")
	if s.ID == "" || !s.CreatedAt.Equal(e.now()) || !s.UpdatedAt.Equal(e.now()) {
		e.t.Fatalf("create did not fill id and times: %+v", s)
	}
	got, err := e.st.GetStructure(e.ctx, s.ID)
	e.ok(err, "get")
	if got != s {
		e.t.Fatalf("get = %+v, want %+v", got, s)
	}
	got, err = e.st.GetStructureBySlug(e.ctx, "le-beta")
	e.ok(err, "get by slug")
	if got != s {
		e.t.Fatalf("get by slug = %+v, want %+v", got, s)
	}
	withID := store.Structure{ID: "fixed-id", Slug: "alpha"}
	e.ok(e.st.CreateStructure(e.ctx, &withID), "create with id")
	if withID.ID != "fixed-id" {
		e.t.Fatalf("given id replaced: %q", withID.ID)
	}

	dup := store.Structure{Slug: "le-beta"}
	e.is(e.st.CreateStructure(e.ctx, &dup), store.ErrConflict, "duplicate slug")
	dupID := store.Structure{ID: s.ID, Slug: "other"}
	e.is(e.st.CreateStructure(e.ctx, &dupID), store.ErrConflict, "duplicate id")
	e.is(e.st.CreateStructure(e.ctx, &store.Structure{}), store.ErrInvalid, "empty slug")
	_, err = e.st.GetStructure(e.ctx, "nope")
	e.is(err, store.ErrNotFound, "get unknown")
	_, err = e.st.GetStructureBySlug(e.ctx, "nope")
	e.is(err, store.ErrNotFound, "get unknown slug")

	list, err := e.st.ListStructures(e.ctx)
	e.ok(err, "list")
	if len(list) != 2 || list[0].Slug != "alpha" || list[1].Slug != "le-beta" {
		e.t.Fatalf("list = %+v, want alpha, le-beta", list)
	}

	e.clock.Advance(time.Minute)
	up, err := e.st.UpdateStructure(e.ctx, s.ID, func(x *store.Structure) error {
		x.Name = "Le Bêta (asso)"
		return nil
	})
	e.ok(err, "update")
	if up.Name != "Le Bêta (asso)" || !up.UpdatedAt.Equal(e.now()) || !up.CreatedAt.Equal(s.CreatedAt) {
		e.t.Fatalf("update = %+v", up)
	}
	got, _ = e.st.GetStructure(e.ctx, s.ID)
	if got != up {
		e.t.Fatalf("after update get = %+v, want %+v", got, up)
	}
	_, err = e.st.UpdateStructure(e.ctx, s.ID, func(x *store.Structure) error { x.Slug = "alpha"; return nil })
	e.is(err, store.ErrConflict, "update to a taken slug")
	_, err = e.st.UpdateStructure(e.ctx, "nope", func(*store.Structure) error { return nil })
	e.is(err, store.ErrNotFound, "update unknown")
	_, err = e.st.UpdateStructure(e.ctx, s.ID, func(x *store.Structure) error { x.ID = "other"; return nil })
	e.is(err, store.ErrInvalid, "update changing id")
}

func testServices(e *env) {
	a := e.structure("a")
	b := e.structure("b")
	s := store.Service{
		StructureID: a.ID, Kind: store.KindPaheko, Slug: "paheko", Name: "Paheko", BaseURL: "https://paheko.a.org",
		DefaultRole: "membre", Roles: []string{"membre", "bureau"}, RoleMapping: map[string]string{"membre": "3", "bureau": "7"},
		ClientID: "paheko-a", ClientSecretHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		RedirectURIs: []string{"https://paheko.a.org/cb"}, PostLogoutURIs: []string{"https://paheko.a.org/"},
		BackchannelLogoutURI: "https://paheko.a.org/bc", RequirePKCE: true, RefreshTokens: true,
		SigningAlg: "ES256", AuthMethod: "client_secret_post", ProvisioningSecret: []byte{0, 1, 2, 0xff},
	}
	e.ok(e.st.CreateService(e.ctx, &s), "create")
	if s.ID == "" || !s.CreatedAt.Equal(e.now()) {
		e.t.Fatalf("create did not fill id and times: %+v", s)
	}
	got, err := e.st.GetService(e.ctx, s.ID)
	e.ok(err, "get")
	sameService(e, got, s)
	got, err = e.st.GetServiceByClientID(e.ctx, "paheko-a")
	e.ok(err, "get by client id")
	sameService(e, got, s)

	// Same slug in another structure is fine; in the same one it is not.
	e.service(b.ID, "paheko")
	dup := store.Service{StructureID: a.ID, Kind: store.KindGeneric, Slug: "paheko", ClientID: "x"}
	e.is(e.st.CreateService(e.ctx, &dup), store.ErrConflict, "slug taken in structure")
	dup = store.Service{StructureID: b.ID, Kind: store.KindGeneric, Slug: "other", ClientID: "paheko-a"}
	e.is(e.st.CreateService(e.ctx, &dup), store.ErrConflict, "client id taken")
	dup = store.Service{StructureID: "nope", Kind: store.KindGeneric, Slug: "x", ClientID: "y"}
	e.is(e.st.CreateService(e.ctx, &dup), store.ErrNotFound, "unknown structure")
	dup = store.Service{StructureID: a.ID, Kind: "gopher", Slug: "x", ClientID: "y"}
	e.is(e.st.CreateService(e.ctx, &dup), store.ErrInvalid, "unknown kind")
	_, err = e.st.GetService(e.ctx, "nope")
	e.is(err, store.ErrNotFound, "get unknown")
	_, err = e.st.GetServiceByClientID(e.ctx, "nope")
	e.is(err, store.ErrNotFound, "get unknown client id")

	e.service(a.ID, "cloud")
	list, err := e.st.ListServices(e.ctx, a.ID)
	e.ok(err, "list a")
	if len(list) != 2 || list[0].Slug != "cloud" || list[1].Slug != "paheko" {
		e.t.Fatalf("list a = %+v", list)
	}
	list, err = e.st.ListServices(e.ctx, "")
	e.ok(err, "list all")
	if len(list) != 3 {
		e.t.Fatalf("list all has %d services, want 3", len(list))
	}

	e.clock.Advance(time.Second)
	up, err := e.st.UpdateService(e.ctx, s.ID, func(x *store.Service) error {
		x.RedirectURIs = append(x.RedirectURIs, "https://paheko.a.org/cb2")
		x.RoleMapping["admin"] = "9"
		x.ProvisioningSecret = nil
		return nil
	})
	e.ok(err, "update")
	got, _ = e.st.GetService(e.ctx, s.ID)
	sameService(e, got, up)
	if len(got.RedirectURIs) != 2 || got.RoleMapping["admin"] != "9" || got.ProvisioningSecret != nil {
		e.t.Fatalf("update not kept: %+v", got)
	}
	_, err = e.st.UpdateService(e.ctx, s.ID, func(x *store.Service) error { x.Slug = "cloud"; return nil })
	e.is(err, store.ErrConflict, "update to a taken slug")
}

func sameService(e *env, got, want store.Service) {
	e.t.Helper()
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		e.t.Fatalf("service\n got %+v\nwant %+v", got, want)
	}
}

func testPeople(e *env) {
	p := store.Person{Username: "jean.dupont", Email: "Jean.Dupont@Example.org", GivenName: "Jean", FamilyName: "Dupont",
		DisplayName: "Jean Dupont", Language: "fr", Quota: "5 GB"}
	e.ok(e.st.CreatePerson(e.ctx, &p), "create")
	if p.ID == "" || p.State != store.StateInvited || !p.CreatedAt.Equal(e.now()) {
		e.t.Fatalf("create did not fill id, state, times: %+v", p)
	}
	got, err := e.st.GetPerson(e.ctx, p.ID)
	e.ok(err, "get")
	if got != p {
		e.t.Fatalf("get = %+v, want %+v", got, p)
	}
	if got.Email != "Jean.Dupont@Example.org" {
		e.t.Fatalf("email not kept as given: %q", got.Email)
	}
	got, err = e.st.GetPersonByUsername(e.ctx, "jean.dupont")
	e.ok(err, "get by username")
	if got.ID != p.ID {
		e.t.Fatal("get by username: wrong person")
	}
	_, err = e.st.GetPerson(e.ctx, "nope")
	e.is(err, store.ErrNotFound, "get unknown")
	_, err = e.st.GetPersonByUsername(e.ctx, "nope")
	e.is(err, store.ErrNotFound, "get unknown username")
	_, err = e.st.GetPersonByEmail(e.ctx, "nope@example.org")
	e.is(err, store.ErrNotFound, "get unknown email")

	dup := store.Person{Username: "jean.dupont", Email: "other@example.org"}
	e.is(e.st.CreatePerson(e.ctx, &dup), store.ErrConflict, "username taken")
	e.is(e.st.CreatePerson(e.ctx, &store.Person{Email: "x@example.org"}), store.ErrInvalid, "empty username")
	e.is(e.st.CreatePerson(e.ctx, &store.Person{Username: "x"}), store.ErrInvalid, "empty email")
	e.is(e.st.CreatePerson(e.ctx, &store.Person{Username: "x", Email: "x@y", State: "zombie"}), store.ErrInvalid, "bad state")

	for _, u := range []string{"jean.dupont2", "jean.dupont10", "jean.dupon", "jean-dupont", "marie.curie"} {
		e.person(u)
	}
	names, err := e.st.UsernamesWithPrefix(e.ctx, "jean.dupont")
	e.ok(err, "usernames with prefix")
	slices.Sort(names)
	if want := []string{"jean.dupont", "jean.dupont10", "jean.dupont2"}; !slices.Equal(names, want) {
		e.t.Fatalf("usernames with prefix = %v, want %v", names, want)
	}
	names, err = e.st.UsernamesWithPrefix(e.ctx, "zz")
	e.ok(err, "usernames with absent prefix")
	if len(names) != 0 {
		e.t.Fatalf("usernames with prefix zz = %v", names)
	}

	s := e.structure("s")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: s.ID}), "membership")
	mc, _ := e.st.GetPersonByUsername(e.ctx, "marie.curie")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: mc.ID, StructureID: s.ID}), "membership")
	_, err = e.st.UpdatePerson(e.ctx, mc.ID, func(x *store.Person) error { x.State = store.StateActive; return nil })
	e.ok(err, "activate")

	all, err := e.st.ListPeople(e.ctx, store.PeopleFilter{})
	e.ok(err, "list all")
	var order []string
	for _, x := range all {
		order = append(order, x.Username)
	}
	if want := []string{"jean-dupont", "jean.dupon", "jean.dupont", "jean.dupont10", "jean.dupont2", "marie.curie"}; !slices.Equal(order, want) {
		e.t.Fatalf("list order = %v, want %v", order, want)
	}
	in, err := e.st.ListPeople(e.ctx, store.PeopleFilter{StructureID: s.ID})
	e.ok(err, "list by structure")
	if len(in) != 2 || in[0].Username != "jean.dupont" || in[1].Username != "marie.curie" {
		e.t.Fatalf("list by structure = %+v", in)
	}
	act, err := e.st.ListPeople(e.ctx, store.PeopleFilter{StructureID: s.ID, State: store.StateActive})
	e.ok(err, "list by structure and state")
	if len(act) != 1 || act[0].Username != "marie.curie" {
		e.t.Fatalf("list active in structure = %+v", act)
	}
}

func testPeopleEmailFolded(e *env) {
	a := store.Person{Username: "alice", Email: "Alice@X.org"}
	e.ok(e.st.CreatePerson(e.ctx, &a), "create Alice@X.org")
	b := store.Person{Username: "alice2", Email: "alice@x.org"}
	e.is(e.st.CreatePerson(e.ctx, &b), store.ErrConflict, "create alice@x.org")
	b.Email = "  ALICE@x.ORG "
	e.is(e.st.CreatePerson(e.ctx, &b), store.ErrConflict, "create with spaces and capitals")
	for _, q := range []string{"alice@x.org", "ALICE@X.ORG", " Alice@X.org"} {
		got, err := e.st.GetPersonByEmail(e.ctx, q)
		e.ok(err, "get by email "+q)
		if got.ID != a.ID {
			e.t.Fatalf("get by email %q: wrong person", q)
		}
	}
	c := e.person("carol")
	_, err := e.st.UpdatePerson(e.ctx, c.ID, func(x *store.Person) error { x.Email = "ALICE@x.org"; return nil })
	e.is(err, store.ErrConflict, "update to a taken folded email")
	up, err := e.st.UpdatePerson(e.ctx, a.ID, func(x *store.Person) error { x.Email = "alice@x.org"; return nil })
	e.ok(err, "a person may change the case of their own email")
	if up.Email != "alice@x.org" {
		e.t.Fatalf("email = %q", up.Email)
	}
}

func testUpdateClosures(e *env) {
	p := e.person("paul")
	boom := errors.New("boom")
	_, err := e.st.UpdatePerson(e.ctx, p.ID, func(x *store.Person) error {
		x.DisplayName = "changed"
		return boom
	})
	if !errors.Is(err, boom) {
		e.t.Fatalf("fn error not returned: %v", err)
	}
	got, _ := e.st.GetPerson(e.ctx, p.ID)
	if got != p {
		e.t.Fatalf("aborted update changed the person: %+v", got)
	}
	_, err = e.st.UpdatePerson(e.ctx, p.ID, func(x *store.Person) error { x.Username = "pierre"; return nil })
	e.is(err, store.ErrInvalid, "username change")
	_, err = e.st.UpdatePerson(e.ctx, p.ID, func(x *store.Person) error { x.ID = "x"; return nil })
	e.is(err, store.ErrInvalid, "id change")
	got, _ = e.st.GetPerson(e.ctx, p.ID)
	if got != p {
		e.t.Fatalf("refused update changed the person: %+v", got)
	}
	_, err = e.st.UpdatePerson(e.ctx, "nope", func(*store.Person) error { return nil })
	e.is(err, store.ErrNotFound, "update unknown")

	e.clock.Advance(time.Hour)
	up, err := e.st.UpdatePerson(e.ctx, p.ID, func(x *store.Person) error {
		x.State = store.StateActive
		x.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
		x.PasswordChangedAt = e.clock.Now()
		x.CreatedAt = time.Time{} // ignored
		return nil
	})
	e.ok(err, "update")
	got, _ = e.st.GetPerson(e.ctx, p.ID)
	if got != up || got.State != store.StateActive || !got.PasswordChangedAt.Equal(e.now()) ||
		!got.UpdatedAt.Equal(e.now()) || !got.CreatedAt.Equal(p.CreatedAt) {
		e.t.Fatalf("after update get = %+v, returned %+v", got, up)
	}

	s := e.structure("s")
	_, err = e.st.UpdateStructure(e.ctx, s.ID, func(x *store.Structure) error { x.Name = "x"; return boom })
	if !errors.Is(err, boom) {
		e.t.Fatalf("structure fn error not returned: %v", err)
	}
	gs, _ := e.st.GetStructure(e.ctx, s.ID)
	if gs != s {
		e.t.Fatalf("aborted update changed the structure: %+v", gs)
	}
	svc := e.service(s.ID, "cloud")
	_, err = e.st.UpdateService(e.ctx, svc.ID, func(x *store.Service) error { x.Name = "x"; return boom })
	if !errors.Is(err, boom) {
		e.t.Fatalf("service fn error not returned: %v", err)
	}
	gsv, _ := e.st.GetService(e.ctx, svc.ID)
	sameService(e, gsv, svc)
}

func testMemberships(e *env) {
	p := e.person("p")
	q := e.person("q")
	a := e.structure("a")
	b := e.structure("b")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: a.ID}), "put p a")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: b.ID, Referent: true}), "put p b")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: q.ID, StructureID: a.ID}), "put q a")
	e.clock.Advance(time.Minute)
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: q.ID, StructureID: a.ID, Referent: true}), "update q a")

	ms, err := e.st.ListMemberships(e.ctx, store.MembershipFilter{PersonID: p.ID})
	e.ok(err, "list by person")
	if len(ms) != 2 {
		e.t.Fatalf("p has %d memberships, want 2", len(ms))
	}
	ms, err = e.st.ListMemberships(e.ctx, store.MembershipFilter{StructureID: a.ID})
	e.ok(err, "list by structure")
	if len(ms) != 2 {
		e.t.Fatalf("a has %d members, want 2", len(ms))
	}
	ms, err = e.st.ListMemberships(e.ctx, store.MembershipFilter{PersonID: q.ID, StructureID: a.ID})
	e.ok(err, "list one")
	if len(ms) != 1 || !ms[0].Referent || !ms[0].CreatedAt.Equal(e.now().Add(-time.Minute)) {
		e.t.Fatalf("q in a = %+v (referent set, created_at kept)", ms)
	}
	ms, _ = e.st.ListMemberships(e.ctx, store.MembershipFilter{})
	if len(ms) != 3 {
		e.t.Fatalf("%d memberships, want 3", len(ms))
	}

	e.is(e.st.PutMembership(e.ctx, store.Membership{PersonID: "nope", StructureID: a.ID}), store.ErrNotFound, "unknown person")
	e.is(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: "nope"}), store.ErrNotFound, "unknown structure")
	e.ok(e.st.DeleteMembership(e.ctx, p.ID, a.ID), "delete")
	e.is(e.st.DeleteMembership(e.ctx, p.ID, a.ID), store.ErrNotFound, "delete again")
	ms, _ = e.st.ListMemberships(e.ctx, store.MembershipFilter{PersonID: p.ID})
	if len(ms) != 1 || ms[0].StructureID != b.ID {
		e.t.Fatalf("after delete p in %+v", ms)
	}
}

// A membership whose removal leaves the person in no structure is kept as
// their former membership, until they join any structure again (one by
// one or in a batch), or the person or the structure goes.
func testFormerMemberships(e *env) {
	p := e.person("p")
	q := e.person("q")
	a := e.structure("a")
	b := e.structure("b")
	former := func(structureID string) []store.FormerMembership {
		e.t.Helper()
		fs, err := e.st.ListFormerMemberships(e.ctx, structureID)
		e.ok(err, "list former memberships")
		return fs
	}
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: a.ID}), "put p a")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: b.ID}), "put p b")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: q.ID, StructureID: a.ID}), "put q a")

	// Still in b: leaving a is no former membership.
	e.ok(e.st.DeleteMembership(e.ctx, p.ID, a.ID), "p leaves a")
	if fs := former(""); len(fs) != 0 {
		e.t.Fatalf("p is still in b, former = %+v", fs)
	}
	e.clock.Advance(time.Minute)
	e.ok(e.st.DeleteMembership(e.ctx, p.ID, b.ID), "p leaves b")
	fs := former("")
	if len(fs) != 1 || fs[0].PersonID != p.ID || fs[0].StructureID != b.ID || !fs[0].LeftAt.Equal(e.now()) {
		e.t.Fatalf("after p left its last structure, former = %+v", fs)
	}
	if fs := former(a.ID); len(fs) != 0 {
		e.t.Fatalf("former of a = %+v, want none (p left it for b)", fs)
	}
	if fs := former(b.ID); len(fs) != 1 || fs[0].PersonID != p.ID {
		e.t.Fatalf("former of b = %+v", fs)
	}
	// A refused delete records nothing.
	e.is(e.st.DeleteMembership(e.ctx, p.ID, a.ID), store.ErrNotFound, "delete again")
	if fs := former(""); len(fs) != 1 || fs[0].StructureID != b.ID {
		e.t.Fatalf("after a refused delete, former = %+v", fs)
	}

	// Taken by a again: the former membership ends; leaving a again
	// makes a the former one.
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: a.ID}), "p joins a")
	if fs := former(""); len(fs) != 0 {
		e.t.Fatalf("p is in a, former = %+v", fs)
	}
	e.ok(e.st.DeleteMembership(e.ctx, p.ID, a.ID), "p leaves a again")
	e.ok(e.st.DeleteMembership(e.ctx, q.ID, a.ID), "q leaves a")
	if fs := former(a.ID); len(fs) != 2 || fs[0].PersonID > fs[1].PersonID {
		e.t.Fatalf("former of a = %+v, want p and q by person", fs)
	}
	// A batch ends them too, for the people it puts only.
	e.ok(e.st.PutMemberships(e.ctx, []store.Membership{{PersonID: p.ID, StructureID: b.ID}}), "batch p b")
	if fs := former(""); len(fs) != 1 || fs[0].PersonID != q.ID {
		e.t.Fatalf("after the batch, former = %+v, want q's only", fs)
	}
	e.ok(e.st.DeleteMembership(e.ctx, p.ID, b.ID), "p leaves b again")
	// The structure goes with its former members' records, the person
	// with theirs.
	e.ok(e.st.DeleteStructure(e.ctx, b.ID), "delete b")
	if fs := former(""); len(fs) != 1 || fs[0].PersonID != q.ID {
		e.t.Fatalf("after b was deleted, former = %+v", fs)
	}
	e.ok(e.st.DeletePerson(e.ctx, q.ID), "delete q")
	if fs := former(""); len(fs) != 0 {
		e.t.Fatalf("after q was deleted, former = %+v", fs)
	}
	// In a transaction, as an import does it.
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: a.ID}), "p joins a")
	e.ok(e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteMembership(ctx, p.ID, a.ID)
	}), "leave in a transaction")
	if fs := former(a.ID); len(fs) != 1 || fs[0].PersonID != p.ID {
		e.t.Fatalf("after a transaction, former = %+v", fs)
	}
}

// A hoster admin leaves no former membership when their last membership
// ends, and a person made a hoster admin loses theirs: no structure held
// them alone.
func testFormerMembershipsNotForAdmins(e *env) {
	p := e.person("p")
	q := e.person("q")
	a := e.structure("a")
	admin := func(x store.Person, on bool) {
		e.t.Helper()
		_, err := e.st.UpdatePerson(e.ctx, x.ID, func(v *store.Person) error { v.Admin = on; return nil })
		e.ok(err, "set admin")
	}
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: a.ID}), "put p a")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: q.ID, StructureID: a.ID}), "put q a")
	admin(p, true)
	e.ok(e.st.DeleteMembership(e.ctx, p.ID, a.ID), "admin p leaves a")
	e.ok(e.st.DeleteMembership(e.ctx, q.ID, a.ID), "q leaves a")
	fs, err := e.st.ListFormerMemberships(e.ctx, "")
	e.ok(err, "list former memberships")
	if len(fs) != 1 || fs[0].PersonID != q.ID {
		e.t.Fatalf("former = %+v, want q's only", fs)
	}
	admin(p, false)
	admin(q, true)
	if fs, _ := e.st.ListFormerMemberships(e.ctx, ""); len(fs) != 0 {
		e.t.Fatalf("q made an admin, former = %+v", fs)
	}
}

// A hoster admin's former membership recorded by an older sesame (whose
// DeleteMembership recorded one for an admin too) ends when they stop being
// an admin: otherwise, once demoted, the structure whose sync dropped them
// while they were an admin could re-add them and take their used account.
func testFormerMembershipOfAnAdminFromBefore(e *env) {
	raw, ok := e.st.(interface{ SQL() *sql.DB })
	if !ok {
		e.t.Skip("the backend gives no SQL access")
	}
	p := e.person("p")
	a := e.structure("a")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: a.ID}), "put p a")
	e.ok(e.st.DeleteMembership(e.ctx, p.ID, a.ID), "p leaves a")
	// p was a hoster admin when a's sync dropped them: the flag set
	// directly, as before the upgrade, the former membership kept.
	if _, err := raw.SQL().ExecContext(e.ctx, "UPDATE people SET admin = TRUE WHERE id = '"+p.ID+"'"); err != nil {
		e.t.Fatal(err)
	}
	if fs, _ := e.st.ListFormerMemberships(e.ctx, ""); len(fs) != 1 {
		e.t.Fatalf("the state before the upgrade: former = %+v", fs)
	}
	_, err := e.st.UpdatePerson(e.ctx, p.ID, func(v *store.Person) error { v.Admin = false; return nil })
	e.ok(err, "p no longer an admin")
	if fs, _ := e.st.ListFormerMemberships(e.ctx, ""); len(fs) != 0 {
		e.t.Fatalf("a former hoster admin kept a former membership recorded while an admin: %+v", fs)
	}
}

func testGrants(e *env) {
	p := e.person("p")
	q := e.person("q")
	a := e.structure("a")
	b := e.structure("b")
	ca := e.service(a.ID, "cloud")
	wa := e.service(a.ID, "site")
	cb := e.service(b.ID, "cloud")
	for _, g := range []store.Grant{
		{PersonID: p.ID, ServiceID: ca.ID, Role: "user"},
		{PersonID: p.ID, ServiceID: wa.ID, Role: "editor"},
		{PersonID: p.ID, ServiceID: cb.ID, Role: "user"},
		{PersonID: q.ID, ServiceID: ca.ID, Role: "user"},
	} {
		e.ok(e.st.PutGrant(e.ctx, g), "put grant")
	}
	e.ok(e.st.PutGrant(e.ctx, store.Grant{PersonID: q.ID, ServiceID: ca.ID, Role: "admin"}), "change role")

	gs, err := e.st.ListGrants(e.ctx, store.GrantFilter{StructureID: a.ID})
	e.ok(err, "by structure")
	if len(gs) != 3 {
		e.t.Fatalf("grants in a = %+v, want 3", gs)
	}
	gs, err = e.st.ListGrants(e.ctx, store.GrantFilter{PersonID: p.ID, StructureID: b.ID})
	e.ok(err, "by person and structure")
	if len(gs) != 1 || gs[0].ServiceID != cb.ID {
		e.t.Fatalf("p in b = %+v", gs)
	}
	gs, err = e.st.ListGrants(e.ctx, store.GrantFilter{ServiceID: ca.ID})
	e.ok(err, "by service")
	if len(gs) != 2 {
		e.t.Fatalf("grants on ca = %+v", gs)
	}
	gs, _ = e.st.ListGrants(e.ctx, store.GrantFilter{PersonID: q.ID})
	if len(gs) != 1 || gs[0].Role != "admin" {
		e.t.Fatalf("q's grants = %+v, want one admin", gs)
	}
	gs, _ = e.st.ListGrants(e.ctx, store.GrantFilter{})
	if len(gs) != 4 {
		e.t.Fatalf("%d grants, want 4", len(gs))
	}
	// By a list of people (a batch of the directory's jobs): grants,
	// memberships and people; an empty list matches nobody, too long a
	// one is refused.
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: a.ID}), "member p")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: q.ID, StructureID: b.ID}), "member q")
	gs, err = e.st.ListGrants(e.ctx, store.GrantFilter{PersonIDs: []string{q.ID, "nobody"}})
	e.ok(err, "by people")
	if len(gs) != 1 || gs[0].PersonID != q.ID {
		e.t.Fatalf("grants of [q] = %+v", gs)
	}
	if gs, _ := e.st.ListGrants(e.ctx, store.GrantFilter{PersonIDs: []string{p.ID, q.ID}, StructureID: a.ID}); len(gs) != 3 {
		e.t.Fatalf("grants of [p q] in a = %+v", gs)
	}
	if ms, _ := e.st.ListMemberships(e.ctx, store.MembershipFilter{PersonIDs: []string{q.ID}}); len(ms) != 1 || ms[0].StructureID != b.ID {
		e.t.Fatalf("memberships of [q] = %+v", ms)
	}
	if ps, _ := e.st.ListPeople(e.ctx, store.PeopleFilter{IDs: []string{q.ID, p.ID}}); len(ps) != 2 || ps[0].ID != p.ID {
		e.t.Fatalf("people [q p] = %+v", ps)
	}
	if ps, err := e.st.ListPeople(e.ctx, store.PeopleFilter{IDs: []string{}}); err != nil || len(ps) != 0 {
		e.t.Fatalf("people [] = %+v %v", ps, err)
	}
	_, err = e.st.ListGrants(e.ctx, store.GrantFilter{PersonIDs: make([]string, store.MaxFilterIDs+1)})
	e.is(err, store.ErrInvalid, "too many ids")
	e.is(e.st.PutGrant(e.ctx, store.Grant{PersonID: p.ID, ServiceID: "nope", Role: "x"}), store.ErrNotFound, "unknown service")
	e.is(e.st.PutGrant(e.ctx, store.Grant{PersonID: "nope", ServiceID: ca.ID, Role: "x"}), store.ErrNotFound, "unknown person")
	e.ok(e.st.DeleteGrant(e.ctx, p.ID, ca.ID), "delete")
	e.is(e.st.DeleteGrant(e.ctx, p.ID, ca.ID), store.ErrNotFound, "delete again")
	gs, _ = e.st.ListGrants(e.ctx, store.GrantFilter{PersonID: p.ID})
	if len(gs) != 2 {
		e.t.Fatalf("after delete p has %+v", gs)
	}
}

func testProvisions(e *env) {
	p := e.person("p")
	q := e.person("q")
	a := e.structure("a")
	b := e.structure("b")
	ca := e.service(a.ID, "cloud")
	cb := e.service(b.ID, "cloud")
	_, err := e.st.GetProvision(e.ctx, p.ID, ca.ID)
	e.is(err, store.ErrNotFound, "none yet")
	want := store.Provision{PersonID: p.ID, ServiceID: ca.ID, Status: store.ProvisionDone, RemoteID: "42",
		Owned: true, Role: "admin", Message: ""}
	e.ok(e.st.PutProvision(e.ctx, want), "put")
	e.ok(e.st.PutProvision(e.ctx, store.Provision{PersonID: q.ID, ServiceID: ca.ID, Status: store.ProvisionPending}), "put q")
	e.ok(e.st.PutProvision(e.ctx, store.Provision{PersonID: p.ID, ServiceID: cb.ID, Status: store.ProvisionFailed,
		Message: "Sorry, you are not allowed to create new users."}), "put p on b")
	got, err := e.st.GetProvision(e.ctx, p.ID, ca.ID)
	e.ok(err, "get")
	if got.UpdatedAt.IsZero() {
		e.t.Fatalf("UpdatedAt not set")
	}
	got.UpdatedAt = time.Time{}
	if got != want {
		e.t.Fatalf("got %+v, want %+v", got, want)
	}
	// Replace: every field is written, including a cleared Owned.
	e.clock.Advance(time.Second)
	e.ok(e.st.PutProvision(e.ctx, store.Provision{PersonID: p.ID, ServiceID: ca.ID, Status: store.ProvisionManual,
		RemoteID: "42", Message: "à faire à la main"}), "replace")
	got2, _ := e.st.GetProvision(e.ctx, p.ID, ca.ID)
	if got2.Status != store.ProvisionManual || got2.Owned || got2.Role != "" || got2.Message != "à faire à la main" ||
		!got2.UpdatedAt.After(got.UpdatedAt) {
		e.t.Fatalf("after replace: %+v", got2)
	}
	ls, err := e.st.ListProvisions(e.ctx, store.ProvisionFilter{StructureID: a.ID})
	e.ok(err, "by structure")
	if len(ls) != 2 {
		e.t.Fatalf("provisions in a = %+v", ls)
	}
	ls, _ = e.st.ListProvisions(e.ctx, store.ProvisionFilter{PersonID: p.ID})
	if len(ls) != 2 {
		e.t.Fatalf("provisions of p = %+v", ls)
	}
	ls, _ = e.st.ListProvisions(e.ctx, store.ProvisionFilter{Status: store.ProvisionFailed})
	if len(ls) != 1 || ls[0].ServiceID != cb.ID {
		e.t.Fatalf("failed = %+v", ls)
	}
	ls, _ = e.st.ListProvisions(e.ctx, store.ProvisionFilter{ServiceID: ca.ID, PersonID: q.ID})
	if len(ls) != 1 || ls[0].Status != store.ProvisionPending {
		e.t.Fatalf("q on ca = %+v", ls)
	}
	e.is(e.st.PutProvision(e.ctx, store.Provision{PersonID: p.ID, ServiceID: "nope", Status: store.ProvisionDone}), store.ErrNotFound, "unknown service")
	e.is(e.st.PutProvision(e.ctx, store.Provision{PersonID: p.ID, ServiceID: ca.ID, Status: "weird"}), store.ErrInvalid, "unknown status")
	// The record outlives the grant, not the service.
	svc, err := e.st.UpdateService(e.ctx, ca.ID, func(s *store.Service) error { s.ProvisionTakeOver = true; return nil })
	e.ok(err, "take over")
	if got, _ := e.st.GetService(e.ctx, ca.ID); !got.ProvisionTakeOver || !svc.ProvisionTakeOver {
		e.t.Fatalf("ProvisionTakeOver not kept: %+v", got)
	}
}

func testTokens(e *env) {
	p := e.person("p")
	exp := e.clock.Now().Add(7 * 24 * time.Hour)
	tok := store.Token{Hash: hash("secret"), PersonID: p.ID, Purpose: store.PurposeActivate, ExpiresAt: exp}
	e.ok(e.st.IssueToken(e.ctx, tok), "issue")
	got, err := e.st.GetToken(e.ctx, hash("secret"))
	e.ok(err, "get")
	if !bytes.Equal(got.Hash, tok.Hash) || got.PersonID != p.ID || got.Purpose != store.PurposeActivate ||
		!got.ExpiresAt.Equal(exp.Truncate(time.Microsecond)) || !got.UsedAt.IsZero() || !got.CreatedAt.Equal(e.now()) {
		e.t.Fatalf("get = %+v", got)
	}
	e.is(e.st.IssueToken(e.ctx, store.Token{Hash: hash("x"), PersonID: "nope", Purpose: store.PurposeReset, ExpiresAt: exp}),
		store.ErrNotFound, "issue for unknown person")
	e.is(e.st.IssueToken(e.ctx, store.Token{Hash: hash("x"), PersonID: p.ID, Purpose: "spy", ExpiresAt: exp}),
		store.ErrInvalid, "issue with unknown purpose")
	_, err = e.st.GetToken(e.ctx, hash("unknown"))
	e.is(err, store.ErrNotFound, "get unknown")

	_, err = e.st.ConsumeToken(e.ctx, hash("secret"), store.PurposeReset, e.clock.Now())
	e.is(err, store.ErrNotFound, "consume for another purpose")
	_, err = e.st.ConsumeToken(e.ctx, hash("unknown"), store.PurposeActivate, e.clock.Now())
	e.is(err, store.ErrNotFound, "consume unknown")
	at := e.clock.Now().Add(time.Hour)
	used, err := e.st.ConsumeToken(e.ctx, hash("secret"), store.PurposeActivate, at)
	e.ok(err, "consume")
	if !used.UsedAt.Equal(at.Truncate(time.Microsecond)) || used.PersonID != p.ID {
		e.t.Fatalf("consume = %+v", used)
	}
	again, err := e.st.ConsumeToken(e.ctx, hash("secret"), store.PurposeActivate, at.Add(time.Second))
	e.is(err, store.ErrTokenUsed, "consume twice")
	if !again.UsedAt.Equal(used.UsedAt) {
		e.t.Fatalf("second consume changed used_at: %+v", again)
	}
	got, _ = e.st.GetToken(e.ctx, hash("secret"))
	if got.UsedAt.IsZero() {
		e.t.Fatal("get does not show the token used")
	}

	r := store.Token{Hash: hash("reset"), PersonID: p.ID, Purpose: store.PurposeReset, ExpiresAt: e.clock.Now().Add(time.Hour)}
	e.ok(e.st.IssueToken(e.ctx, r), "issue reset")
	_, err = e.st.ConsumeToken(e.ctx, r.Hash, store.PurposeReset, e.clock.Now().Add(time.Hour))
	e.is(err, store.ErrTokenExpired, "consume at expiry")
	_, err = e.st.ConsumeToken(e.ctx, r.Hash, store.PurposeReset, e.clock.Now().Add(2*time.Hour))
	e.is(err, store.ErrTokenExpired, "consume after expiry")
	got, _ = e.st.GetToken(e.ctx, r.Hash)
	if !got.UsedAt.IsZero() {
		e.t.Fatal("an expired consume marked the token used")
	}
	_, err = e.st.ConsumeToken(e.ctx, r.Hash, store.PurposeReset, e.clock.Now().Add(59*time.Minute))
	e.ok(err, "consume just before expiry")
}

func testTokenIssueInvalidates(e *env) {
	p := e.person("p")
	q := e.person("q")
	exp := e.clock.Now().Add(time.Hour)
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("used"), PersonID: p.ID, Purpose: store.PurposeReset, ExpiresAt: exp}), "issue used")
	_, err := e.st.ConsumeToken(e.ctx, hash("used"), store.PurposeReset, e.clock.Now())
	e.ok(err, "consume")
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("old"), PersonID: p.ID, Purpose: store.PurposeReset, ExpiresAt: exp}), "issue old")
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("act"), PersonID: p.ID, Purpose: store.PurposeActivate, ExpiresAt: exp}), "issue activate")
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("q"), PersonID: q.ID, Purpose: store.PurposeReset, ExpiresAt: exp}), "issue q")
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("new"), PersonID: p.ID, Purpose: store.PurposeReset, ExpiresAt: exp}), "issue new")

	_, err = e.st.GetToken(e.ctx, hash("old"))
	e.is(err, store.ErrNotFound, "the older unused token of that purpose is gone")
	_, err = e.st.ConsumeToken(e.ctx, hash("old"), store.PurposeReset, e.clock.Now())
	e.is(err, store.ErrNotFound, "consume the older token")
	for _, h := range []string{"used", "act", "q", "new"} {
		_, err := e.st.GetToken(e.ctx, hash(h))
		e.ok(err, "token "+h+" kept")
	}
	_, err = e.st.ConsumeToken(e.ctx, hash("new"), store.PurposeReset, e.clock.Now())
	e.ok(err, "consume new")

	// RevokeTokens: every unused token of p goes (here "act"), whatever its
	// purpose; used ones stay (a consumed link shows "already used"), and
	// other people's are untouched.
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("newer"), PersonID: p.ID, Purpose: store.PurposeReset, ExpiresAt: exp}), "issue newer")
	n, err := e.st.RevokeTokens(e.ctx, p.ID)
	e.ok(err, "revoke")
	if n != 2 {
		e.t.Fatalf("revoke = %d tokens, want 2 (act, newer)", n)
	}
	for _, h := range []string{"act", "newer"} {
		_, err := e.st.GetToken(e.ctx, hash(h))
		e.is(err, store.ErrNotFound, "revoked token "+h)
	}
	for _, h := range []string{"used", "new", "q"} {
		_, err := e.st.GetToken(e.ctx, hash(h))
		e.ok(err, "token "+h+" kept by revoke")
	}
	if n, err := e.st.RevokeTokens(e.ctx, p.ID); err != nil || n != 0 {
		e.t.Fatalf("revoke again = %d, %v", n, err)
	}
}

func testTokenConsumeConcurrent(e *env) {
	p := e.person("p")
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("race"), PersonID: p.ID, Purpose: store.PurposeActivate,
		ExpiresAt: e.clock.Now().Add(time.Hour)}), "issue")
	const n = 20
	var wins, used atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var err error
			if i%2 == 0 {
				_, err = e.st.ConsumeToken(e.ctx, hash("race"), store.PurposeActivate, e.clock.Now())
			} else {
				err = e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
					_, err := tx.ConsumeToken(ctx, hash("race"), store.PurposeActivate, e.clock.Now())
					return err
				})
			}
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrTokenUsed):
				used.Add(1)
			default:
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Errorf("unexpected error: %v", err)
	}
	if wins.Load() != 1 || used.Load() != n-1 {
		e.t.Fatalf("%d consumed, %d told used; want 1 and %d", wins.Load(), used.Load(), n-1)
	}
}

func testImports(e *env) {
	s := e.structure("s")
	first := store.Import{StructureID: s.ID, Actor: "cli:root", FileName: "membres.csv", FileDigest: "abcd",
		Mode: store.ModeSync, DryRun: true, Status: "dry-run", Counts: map[string]int{"create": 3, "error": 1},
		Report: []byte(`{"rows":[]}`)}
	e.ok(e.st.CreateImport(e.ctx, &first), "create")
	if first.ID == "" || !first.CreatedAt.Equal(e.now()) {
		e.t.Fatalf("create did not fill id and time: %+v", first)
	}
	got, err := e.st.GetImport(e.ctx, first.ID)
	e.ok(err, "get")
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", first) {
		e.t.Fatalf("get\n got %+v\nwant %+v", got, first)
	}
	e.clock.Advance(time.Minute)
	second := store.Import{StructureID: s.ID, Actor: "admin:alice", FileName: "membres.csv", Status: "applied"}
	e.ok(e.st.CreateImport(e.ctx, &second), "create second")
	if second.Mode != store.ModeAdd {
		e.t.Fatalf("empty mode is not add: %q", second.Mode)
	}
	list, err := e.st.ListImports(e.ctx, s.ID)
	e.ok(err, "list")
	if len(list) != 2 || list[0].ID != second.ID || list[1].ID != first.ID {
		e.t.Fatalf("list is not newest first: %+v", list)
	}
	list, _ = e.st.ListImports(e.ctx, "other")
	if len(list) != 0 {
		e.t.Fatalf("list of another structure = %+v", list)
	}
	_, err = e.st.GetImport(e.ctx, "nope")
	e.is(err, store.ErrNotFound, "get unknown")
	e.is(e.st.CreateImport(e.ctx, &store.Import{StructureID: "nope"}), store.ErrNotFound, "unknown structure")
}

func testAudit(e *env) {
	var ids []int64
	for i := range 5 {
		a := store.AuditEntry{Actor: "cli:root", Action: "person.create", Target: fmt.Sprintf("person:%d", i%2),
			Details: map[string]any{"n": float64(i), "who": "x"}}
		if i == 4 {
			a.Action = "import.apply"
			a.Time = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		e.ok(e.st.AppendAudit(e.ctx, &a), "append")
		if a.ID == 0 || a.Time.IsZero() {
			e.t.Fatalf("append did not fill id and time: %+v", a)
		}
		ids = append(ids, a.ID)
		e.clock.Advance(time.Second)
	}
	all, err := e.st.ListAudit(e.ctx, store.AuditFilter{})
	e.ok(err, "list")
	if len(all) != 5 || all[0].ID != ids[4] || all[4].ID != ids[0] {
		e.t.Fatalf("list is not newest first: %+v", all)
	}
	if !all[0].Time.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) || !all[4].Time.Equal(e.now().Add(-5*time.Second)) {
		e.t.Fatalf("times: given %v, filled %v", all[0].Time, all[4].Time)
	}
	if all[4].Details["n"] != float64(0) || all[4].Details["who"] != "x" {
		e.t.Fatalf("details = %#v", all[4].Details)
	}
	byTarget, _ := e.st.ListAudit(e.ctx, store.AuditFilter{Target: "person:0"})
	if len(byTarget) != 3 {
		e.t.Fatalf("by target: %d entries, want 3", len(byTarget))
	}
	byAction, _ := e.st.ListAudit(e.ctx, store.AuditFilter{Action: "import.apply"})
	if len(byAction) != 1 {
		e.t.Fatalf("by action: %d entries, want 1", len(byAction))
	}
	limited, _ := e.st.ListAudit(e.ctx, store.AuditFilter{Limit: 2})
	if len(limited) != 2 || limited[0].ID != ids[4] {
		e.t.Fatalf("limited = %+v", limited)
	}
}

func testInTx(e *env) {
	var pid string
	var jobID int64
	err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		p := store.Person{Username: "tx", Email: "tx@example.org"}
		if err := tx.CreatePerson(ctx, &p); err != nil {
			return err
		}
		pid = p.ID
		// Reads inside the transaction see its own writes.
		if _, err := tx.GetPerson(ctx, p.ID); err != nil {
			return err
		}
		j := store.Job{Kind: "ldap.person", Payload: []byte(`{}`)}
		if _, err := tx.EnqueueJob(ctx, &j); err != nil {
			return err
		}
		jobID = j.ID
		return nil
	})
	e.ok(err, "committed tx")
	_, err = e.st.GetPerson(e.ctx, pid)
	e.ok(err, "person of committed tx")
	_, err = e.st.GetJob(e.ctx, jobID)
	e.ok(err, "job of committed tx")

	boom := errors.New("boom")
	err = e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		p := store.Person{Username: "rolled", Email: "rolled@example.org"}
		if err := tx.CreatePerson(ctx, &p); err != nil {
			return err
		}
		pid = p.ID
		j := store.Job{Kind: "ldap.person", DedupeKey: "rolled", Payload: []byte(`{}`)}
		if _, err := tx.EnqueueJob(ctx, &j); err != nil {
			return err
		}
		jobID = j.ID
		return boom
	})
	if !errors.Is(err, boom) {
		e.t.Fatalf("InTx returned %v, want fn's error", err)
	}
	_, err = e.st.GetPerson(e.ctx, pid)
	e.is(err, store.ErrNotFound, "person of rolled back tx")
	_, err = e.st.GetJob(e.ctx, jobID)
	e.is(err, store.ErrNotFound, "job of rolled back tx")
	jobs, _ := e.st.ListJobs(e.ctx, store.JobFilter{})
	if len(jobs) != 1 {
		e.t.Fatalf("%d jobs after rollback, want 1", len(jobs))
	}
	// The dedupe key of the rolled back job is free.
	ok, err := e.st.EnqueueJob(e.ctx, &store.Job{Kind: "ldap.person", DedupeKey: "rolled"})
	e.ok(err, "enqueue after rollback")
	if !ok {
		e.t.Fatal("dedupe key of a rolled back job is taken")
	}
}

func testInTxConflict(e *env) {
	e.person("taken")
	var pid string
	err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		p := store.Person{Username: "taken", Email: "taken2@example.org"}
		err := tx.CreatePerson(ctx, &p)
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("first create: got %v, want ErrConflict", err)
		}
		// The transaction goes on: pick another username.
		p.Username = "taken2"
		if err := tx.CreatePerson(ctx, &p); err != nil {
			return err
		}
		pid = p.ID
		return nil
	})
	e.ok(err, "tx going on after a conflict")
	got, err := e.st.GetPerson(e.ctx, pid)
	e.ok(err, "person created after the conflict")
	if got.Username != "taken2" {
		e.t.Fatalf("username = %q", got.Username)
	}
	err = e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.CreatePerson(ctx, &store.Person{Username: "taken", Email: "t3@example.org"})
	})
	e.is(err, store.ErrConflict, "InTx returns ErrConflict as is")
}

func testJobsDedupe(e *env) {
	j := store.Job{Kind: "ldap.person", DedupeKey: "ldap.person:1", Payload: []byte(`{"person_id":"1"}`), MaxAttempts: 3}
	ok, err := e.st.EnqueueJob(e.ctx, &j)
	e.ok(err, "enqueue")
	if !ok || j.ID == 0 || j.State != store.JobPending || !j.RunAfter.Equal(e.now()) || !j.CreatedAt.Equal(e.now()) {
		e.t.Fatalf("enqueue = %v, %+v", ok, j)
	}
	got, err := e.st.GetJob(e.ctx, j.ID)
	e.ok(err, "get")
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", j) {
		e.t.Fatalf("get\n got %+v\nwant %+v", got, j)
	}
	dup := store.Job{Kind: "ldap.person", DedupeKey: "ldap.person:1"}
	ok, err = e.st.EnqueueJob(e.ctx, &dup)
	e.ok(err, "enqueue duplicate")
	if ok || dup.ID != 0 {
		e.t.Fatalf("duplicate pending job inserted: %+v", dup)
	}
	for range 2 {
		ok, err = e.st.EnqueueJob(e.ctx, &store.Job{Kind: "mail.activate"})
		e.ok(err, "enqueue without key")
		if !ok {
			e.t.Fatal("jobs without a dedupe key were deduplicated")
		}
	}
	// A running job does not count: a change made while it runs needs a
	// new run.
	claimed, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Kinds: []string{"ldap.person"}, Lease: time.Minute})
	e.ok(err, "claim")
	if len(claimed) != 1 || claimed[0].ID != j.ID {
		e.t.Fatalf("claimed %+v", claimed)
	}
	again := store.Job{Kind: "ldap.person", DedupeKey: "ldap.person:1"}
	ok, err = e.st.EnqueueJob(e.ctx, &again)
	e.ok(err, "enqueue while running")
	if !ok {
		e.t.Fatal("a running job deduplicated a new one")
	}
	e.is(func() error { _, err := e.st.EnqueueJob(e.ctx, &store.Job{}); return err }(), store.ErrInvalid, "empty kind")
	_, err = e.st.GetJob(e.ctx, 999999)
	e.is(err, store.ErrNotFound, "get unknown")
}

func (e *env) enqueue(kind string, runAfter time.Time) store.Job {
	e.t.Helper()
	j := store.Job{Kind: kind, Payload: []byte(`{"k":1}`), RunAfter: runAfter}
	ok, err := e.st.EnqueueJob(e.ctx, &j)
	e.ok(err, "enqueue")
	if !ok {
		e.t.Fatal("not enqueued")
	}
	return j
}

func testJobsClaim(e *env) {
	a := e.enqueue("a", time.Time{})
	e.clock.Advance(time.Second)
	b := e.enqueue("b", time.Time{})
	later := e.enqueue("a", e.clock.Now().Add(time.Hour))
	e.clock.Advance(time.Second)

	none, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Kinds: []string{"zzz"}, Limit: 10, Lease: time.Minute})
	e.ok(err, "claim unknown kind")
	if len(none) != 0 {
		e.t.Fatalf("claimed jobs of another kind: %+v", none)
	}
	one, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Minute})
	e.ok(err, "claim limit 0")
	if len(one) != 1 || one[0].ID != a.ID {
		e.t.Fatalf("claim with limit 0 = %+v, want the oldest due job", one)
	}
	c := one[0]
	if c.State != store.JobRunning || c.Attempts != 1 || c.LeaseID == "" || !c.LeaseUntil.Equal(e.now().Add(time.Minute)) {
		e.t.Fatalf("claimed job = %+v", c)
	}
	rest, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Kinds: []string{"a", "b"}, Limit: 10, Lease: time.Minute})
	e.ok(err, "claim rest")
	if len(rest) != 1 || rest[0].ID != b.ID {
		e.t.Fatalf("claim rest = %+v, want only b (later is not due)", rest)
	}
	if rest[0].LeaseID == c.LeaseID {
		e.t.Fatal("two claims share a lease id")
	}
	_, err = e.st.ClaimJobs(e.ctx, store.ClaimRequest{Limit: 1})
	e.is(err, store.ErrInvalid, "claim without lease")

	e.clock.Advance(time.Hour)
	due, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Kinds: []string{"a"}, Limit: 10, Lease: 2 * time.Hour})
	e.ok(err, "claim after an hour")
	// a's lease expired too, so it is taken again, with later.
	var ids []int64
	for _, j := range due {
		ids = append(ids, j.ID)
	}
	if !slices.Equal(ids, []int64{a.ID, later.ID}) {
		e.t.Fatalf("claimed %v, want %v", ids, []int64{a.ID, later.ID})
	}
	e.ok(e.st.CompleteJob(e.ctx, due[0].ID, due[0].LeaseID), "complete a")
	e.ok(e.st.CompleteJob(e.ctx, due[1].ID, due[1].LeaseID), "complete later")
	done, err := e.st.GetJob(e.ctx, a.ID)
	e.ok(err, "get")
	if done.State != store.JobDone || done.Attempts != 2 || done.LeaseID != "" || !done.LeaseUntil.IsZero() {
		e.t.Fatalf("done job = %+v", done)
	}
	counts, err := e.st.CountJobs(e.ctx)
	e.ok(err, "count")
	want := map[store.JobState]int{store.JobPending: 0, store.JobRunning: 1, store.JobDone: 2, store.JobDead: 0}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		e.t.Fatalf("counts = %v, want %v", counts, want)
	}
	list, err := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobDone})
	e.ok(err, "list done")
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != later.ID {
		e.t.Fatalf("list done = %+v", list)
	}
	list, _ = e.st.ListJobs(e.ctx, store.JobFilter{Kind: "b"})
	if len(list) != 1 || list[0].ID != b.ID {
		e.t.Fatalf("list kind b = %+v", list)
	}
	list, _ = e.st.ListJobs(e.ctx, store.JobFilter{Limit: 2})
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		e.t.Fatalf("list limit 2 = %+v", list)
	}
}

func testJobsLeaseExpiry(e *env) {
	j := e.enqueue("k", time.Time{})
	first, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: 30 * time.Second})
	e.ok(err, "claim")
	if len(first) != 1 {
		e.t.Fatalf("claimed %d", len(first))
	}
	e.clock.Advance(29 * time.Second)
	none, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: 30 * time.Second})
	e.ok(err, "claim within lease")
	if len(none) != 0 {
		e.t.Fatalf("a job under lease was claimed again: %+v", none)
	}
	e.clock.Advance(time.Second)
	second, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: 30 * time.Second})
	e.ok(err, "claim at lease expiry")
	if len(second) != 1 || second[0].ID != j.ID || second[0].Attempts != 2 || second[0].LeaseID == first[0].LeaseID {
		e.t.Fatalf("reclaim = %+v", second)
	}
}

func testJobsFencing(e *env) {
	j := e.enqueue("k", time.Time{})
	first, _ := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Second})
	e.clock.Advance(2 * time.Second)
	second, _ := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Minute})
	if len(first) != 1 || len(second) != 1 {
		e.t.Fatalf("claims: %d then %d", len(first), len(second))
	}
	old := first[0].LeaseID
	e.is(e.st.CompleteJob(e.ctx, j.ID, old), store.ErrLeaseLost, "complete with a stale lease")
	e.is(e.st.RetryJob(e.ctx, j.ID, old, e.clock.Now(), "x"), store.ErrLeaseLost, "retry with a stale lease")
	e.is(e.st.BuryJob(e.ctx, j.ID, old, "x"), store.ErrLeaseLost, "bury with a stale lease")
	e.is(e.st.CompleteJob(e.ctx, 999999, old), store.ErrNotFound, "complete unknown job")
	got, _ := e.st.GetJob(e.ctx, j.ID)
	if got.State != store.JobRunning || got.LeaseID != second[0].LeaseID {
		e.t.Fatalf("stale calls changed the job: %+v", got)
	}
	e.ok(e.st.CompleteJob(e.ctx, j.ID, second[0].LeaseID), "complete with the current lease")
	e.is(e.st.CompleteJob(e.ctx, j.ID, second[0].LeaseID), store.ErrLeaseLost, "complete twice")
}

func testJobsRetryBury(e *env) {
	j := e.enqueue("k", time.Time{})
	c, _ := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Minute})
	runAfter := e.clock.Now().Add(10 * time.Minute)
	e.ok(e.st.RetryJob(e.ctx, j.ID, c[0].LeaseID, runAfter, "ldap down"), "retry")
	got, _ := e.st.GetJob(e.ctx, j.ID)
	if got.State != store.JobPending || got.LastError != "ldap down" || !got.RunAfter.Equal(runAfter.Truncate(time.Microsecond)) ||
		got.LeaseID != "" || got.Attempts != 1 {
		e.t.Fatalf("retried job = %+v", got)
	}
	e.clock.Advance(9 * time.Minute)
	none, _ := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Minute})
	if len(none) != 0 {
		e.t.Fatal("a job was claimed before its run_after")
	}
	e.clock.Advance(time.Minute)
	c, _ = e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Minute})
	if len(c) != 1 || c[0].Attempts != 2 || c[0].LastError != "ldap down" {
		e.t.Fatalf("claim after backoff = %+v", c)
	}
	e.ok(e.st.BuryJob(e.ctx, j.ID, c[0].LeaseID, "gave up"), "bury")
	got, _ = e.st.GetJob(e.ctx, j.ID)
	if got.State != store.JobDead || got.LastError != "gave up" {
		e.t.Fatalf("buried job = %+v", got)
	}
	e.clock.Advance(24 * time.Hour)
	none, _ = e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Minute})
	if len(none) != 0 {
		e.t.Fatal("a dead job was claimed")
	}
	counts, _ := e.st.CountJobs(e.ctx)
	if counts[store.JobDead] != 1 || counts[store.JobPending] != 0 {
		e.t.Fatalf("counts = %v", counts)
	}
	dead, _ := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobDead})
	if len(dead) != 1 || dead[0].ID != j.ID {
		e.t.Fatalf("dead jobs = %+v", dead)
	}
}

func testJobsRetryDedupe(e *env) {
	j := store.Job{Kind: "ldap.person", DedupeKey: "p1"}
	_, err := e.st.EnqueueJob(e.ctx, &j)
	e.ok(err, "enqueue")
	c, _ := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Minute})
	newer := store.Job{Kind: "ldap.person", DedupeKey: "p1"}
	ok, err := e.st.EnqueueJob(e.ctx, &newer)
	e.ok(err, "enqueue while running")
	if !ok {
		e.t.Fatal("not enqueued")
	}
	// Retrying the running one must not fail on the pending one's key, and
	// both stay.
	e.ok(e.st.RetryJob(e.ctx, j.ID, c[0].LeaseID, e.clock.Now(), "failed"), "retry")
	pending, _ := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobPending})
	if len(pending) != 2 {
		e.t.Fatalf("pending = %+v, want both", pending)
	}
	ok, _ = e.st.EnqueueJob(e.ctx, &store.Job{Kind: "ldap.person", DedupeKey: "p1"})
	if ok {
		e.t.Fatal("the key is no longer deduplicated")
	}
}

func testJobsRequeue(e *env) {
	j := store.Job{Kind: "ldap.person", DedupeKey: "p9"}
	_, err := e.st.EnqueueJob(e.ctx, &j)
	e.ok(err, "enqueue")
	e.is(e.st.RequeueJob(e.ctx, j.ID), store.ErrConflict, "requeue a pending job")
	e.is(e.st.RequeueJob(e.ctx, j.ID+1000), store.ErrNotFound, "requeue an unknown job")
	c, _ := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Minute})
	e.ok(e.st.BuryJob(e.ctx, j.ID, c[0].LeaseID, "directory refused"), "bury")
	// Meanwhile a newer job for the same person is pending: requeueing the
	// dead one keeps both.
	newer := store.Job{Kind: "ldap.person", DedupeKey: "p9"}
	_, err = e.st.EnqueueJob(e.ctx, &newer)
	e.ok(err, "enqueue newer")
	e.clock.Advance(time.Hour)
	e.ok(e.st.RequeueJob(e.ctx, j.ID), "requeue")
	got, _ := e.st.GetJob(e.ctx, j.ID)
	if got.State != store.JobPending || got.Attempts != 0 || got.LastError != "directory refused" ||
		!got.RunAfter.Equal(e.clock.Now().Truncate(time.Microsecond)) {
		e.t.Fatalf("requeued job = %+v", got)
	}
	if pending, _ := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobPending}); len(pending) != 2 {
		e.t.Fatalf("pending = %+v, want the requeued and the newer", pending)
	}
	c, _ = e.st.ClaimJobs(e.ctx, store.ClaimRequest{Lease: time.Minute, Limit: 10})
	if len(c) != 2 {
		e.t.Fatalf("claimed %d, want 2", len(c))
	}
}

func testJobsClaimConcurrent(e *env) {
	const n = 200
	for range n {
		e.enqueue("k", time.Time{})
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				js, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Limit: 7, Lease: time.Hour})
				if err != nil {
					errs <- err
					return
				}
				if len(js) == 0 {
					return
				}
				mu.Lock()
				for _, j := range js {
					seen[j.ID]++
				}
				mu.Unlock()
				for _, j := range js {
					if err := e.st.CompleteJob(e.ctx, j.ID, j.LeaseID); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatalf("concurrent claim: %v", err)
	}
	claimedOnceEach(e, seen, n)
}

func testConcurrentWriters(e *env) {
	s := e.structure("s")
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
					p := store.Person{Username: fmt.Sprintf("w%d.p%d", w, i), Email: fmt.Sprintf("w%d.p%d@example.org", w, i)}
					if err := tx.CreatePerson(ctx, &p); err != nil {
						return err
					}
					if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: s.ID}); err != nil {
						return err
					}
					// A read-modify-write on one shared row.
					if _, err := tx.UpdateStructure(ctx, s.ID, func(x *store.Structure) error {
						x.Contact = p.Email
						return nil
					}); err != nil {
						return err
					}
					_, err := tx.EnqueueJob(ctx, &store.Job{Kind: "ldap.person", DedupeKey: "ldap.person:" + p.ID})
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatalf("concurrent writer: %v", err)
	}
	people, err := e.st.ListPeople(e.ctx, store.PeopleFilter{StructureID: s.ID})
	e.ok(err, "list")
	if len(people) != workers*each {
		e.t.Fatalf("%d people, want %d", len(people), workers*each)
	}
	counts, _ := e.st.CountJobs(e.ctx)
	if counts[store.JobPending] != workers*each {
		e.t.Fatalf("%d pending jobs, want %d", counts[store.JobPending], workers*each)
	}
}

func testTimes(e *env) {
	p := e.person("t")
	if p.CreatedAt.Location() != time.UTC {
		e.t.Fatalf("created_at is not UTC: %v", p.CreatedAt)
	}
	got, _ := e.st.GetPerson(e.ctx, p.ID)
	if got.CreatedAt.Location() != time.UTC || !got.CreatedAt.Equal(e.now()) || !got.PasswordChangedAt.IsZero() {
		e.t.Fatalf("times read back: %+v", got)
	}
	if got.CreatedAt.Nanosecond()%1000 != 0 {
		e.t.Fatalf("time kept below the microsecond: %v", got.CreatedAt)
	}
	if e.st.Backend() != "sqlite" && e.st.Backend() != "postgres" {
		e.t.Fatalf("backend = %q", e.st.Backend())
	}
	e.ok(e.st.Ping(e.ctx), "ping")
}

// testJobsDisabledSinks: the jobs of a disabled sink are never queued, in
// or out of a transaction; other sinks (even with a name that starts the
// same) are not concerned; the list can be changed.
func testJobsDisabledSinks(e *env) {
	e.st.SetDisabledJobSinks("ldap", "provision")
	for _, kind := range []string{"ldap.person", "ldap.structure", "ldap", "provision.nextcloud"} {
		j := store.Job{Kind: kind, DedupeKey: kind + ":1", Payload: []byte(`{}`)}
		ok, err := e.st.EnqueueJob(e.ctx, &j)
		e.ok(err, "enqueue "+kind)
		if ok || j.ID != 0 {
			e.t.Fatalf("a job of a disabled sink was queued: %+v", j)
		}
	}
	err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		ok, err := tx.EnqueueJob(ctx, &store.Job{Kind: "ldap.person"})
		if ok {
			return errors.New("queued in a transaction")
		}
		return err
	})
	e.ok(err, "enqueue in a transaction")
	for _, kind := range []string{"mail.activate", "ldapx.person", "oidc.backchannel-logout"} {
		if ok, err := e.st.EnqueueJob(e.ctx, &store.Job{Kind: kind}); err != nil || !ok {
			e.t.Fatalf("enqueue %s: %v, %v", kind, ok, err)
		}
	}
	e.is(func() error { _, err := e.st.EnqueueJob(e.ctx, &store.Job{}); return err }(), store.ErrInvalid, "empty kind, sink disabled or not")
	counts, err := e.st.CountJobs(e.ctx)
	e.ok(err, "count")
	if counts[store.JobPending] != 3 {
		e.t.Fatalf("counts = %v, want the 3 jobs of enabled sinks", counts)
	}
	e.st.SetDisabledJobSinks()
	if ok, err := e.st.EnqueueJob(e.ctx, &store.Job{Kind: "ldap.person"}); err != nil || !ok {
		e.t.Fatalf("enqueue once the sink is enabled again: %v, %v", ok, err)
	}
}

// testJobsClearPending: clearing a sink deletes its jobs that wait to run
// (pending, or running under an expired lease) and keeps the dead ones,
// those under a live lease and every other sink's.
func testJobsClearPending(e *env) {
	claim := func(kind string, lease time.Duration) store.Job {
		e.t.Helper()
		c, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Kinds: []string{kind}, Lease: lease})
		e.ok(err, "claim "+kind)
		if len(c) != 1 {
			e.t.Fatalf("claimed %d %s", len(c), kind)
		}
		return c[0]
	}
	pending := e.enqueue("ldap.person", time.Time{})
	later := e.enqueue("ldap.person", e.clock.Now().Add(time.Hour)) // pending, not yet due
	bare := e.enqueue("ldap", time.Time{})
	e.enqueue("ldap.structure", time.Time{})
	expired := claim("ldap.structure", time.Second)
	e.enqueue("ldap.group", time.Time{})
	e.enqueue("mail.activate", time.Time{})
	e.enqueue("ldapx.person", time.Time{})
	e.enqueue("ldap.dead", time.Time{})
	dead := claim("ldap.dead", time.Minute)
	e.ok(e.st.BuryJob(e.ctx, dead.ID, dead.LeaseID, "refused"), "bury")
	e.clock.Advance(2 * time.Second)
	live := claim("ldap.group", time.Hour)

	n, err := e.st.ClearPendingJobs(e.ctx, "ldap")
	e.ok(err, "clear")
	if n != 4 {
		e.t.Fatalf("cleared %d jobs, want 4 (%d, %d, %d, %d)", n, pending.ID, later.ID, bare.ID, expired.ID)
	}
	left, err := e.st.ListJobs(e.ctx, store.JobFilter{})
	e.ok(err, "list")
	var kinds []string
	for _, j := range left {
		kinds = append(kinds, fmt.Sprintf("%s:%s", j.Kind, j.State))
	}
	want := []string{"ldap.group:running", "mail.activate:pending", "ldapx.person:pending", "ldap.dead:dead"}
	if !slices.Equal(kinds, want) || left[0].ID != live.ID {
		e.t.Fatalf("left %v, want %v", kinds, want)
	}
	ldap, err := e.st.ListJobs(e.ctx, store.JobFilter{Sink: "ldap"})
	e.ok(err, "list sink")
	if len(ldap) != 2 || ldap[0].Kind != "ldap.group" || ldap[1].Kind != "ldap.dead" {
		e.t.Fatalf("list sink ldap = %+v", ldap)
	}
	if n, err := e.st.ClearPendingJobs(e.ctx, "ldap"); err != nil || n != 0 {
		e.t.Fatalf("clear again: %d, %v", n, err)
	}
	for _, bad := range []string{"", "ldap.person", "l\u00e9"} {
		_, err := e.st.ClearPendingJobs(e.ctx, bad)
		e.is(err, store.ErrInvalid, fmt.Sprintf("clear sink %q", bad))
		if bad != "" { // no sink: no filter
			_, err = e.st.ListJobs(e.ctx, store.JobFilter{Sink: bad})
			e.is(err, store.ErrInvalid, fmt.Sprintf("list sink %q", bad))
		}
	}
}

// claimedOnceEach checks that n jobs were claimed, each exactly once
// (seen counts the claims of each), and are all done.
func claimedOnceEach(e *env, seen map[int64]int, n int) {
	e.t.Helper()
	if len(seen) != n {
		e.t.Fatalf("%d jobs claimed, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			e.t.Fatalf("job %d claimed %d times", id, c)
		}
	}
	counts, _ := e.st.CountJobs(e.ctx)
	if counts[store.JobDone] != n {
		e.t.Fatalf("counts %v, want %d done", counts, n)
	}
}
