package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"sesame/internal/store"
)

// batchTests cover the bulk methods of an import: CreatePeople,
// PutMemberships, PutGrants, IssueTokens and EnqueueJobs. Batches larger
// than one statement's rows check that the chunks all go in, or none.
var batchTests = []struct {
	name string
	fn   func(*env)
}{
	{"BatchPeople", testBatchPeople},
	{"BatchPeopleConflictInTx", testBatchPeopleConflictInTx},
	{"BatchMembershipsGrants", testBatchMembershipsGrants},
	{"BatchTokens", testBatchTokens},
	{"BatchJobs", testBatchJobs},
	{"BatchJobsMany", testBatchJobsMany},
}

// newPeople returns n people to create, named prefix0, prefix1...
func newPeople(prefix string, n int) []*store.Person {
	out := make([]*store.Person, n)
	for i := range out {
		u := fmt.Sprintf("%s%d", prefix, i)
		out[i] = &store.Person{Username: u, Email: u + "@Example.org", GivenName: "Given", FamilyName: u,
			Language: "fr", State: store.StateInvited}
	}
	return out
}

func (e *env) countPeople() int {
	e.t.Helper()
	people, err := e.st.ListPeople(e.ctx, store.PeopleFilter{})
	e.ok(err, "list people")
	return len(people)
}

func testBatchPeople(e *env) {
	e.ok(e.st.CreatePeople(e.ctx, nil), "empty batch")
	existing := e.person("taken")
	people := newPeople("p", 2500) // three statements
	people[7].State = ""           // invited
	people[9].ID = "chosen-id"
	people[11].PasswordHash, people[11].PasswordChangedAt = "$argon2id$x", e.now().Add(-time.Hour)
	people[11].Admin, people[11].State, people[11].Quota = true, store.StateActive, "5 GB"
	e.ok(e.st.CreatePeople(e.ctx, people), "create people")
	ids := map[string]bool{}
	for _, p := range people {
		if p.ID == "" || ids[p.ID] || !p.CreatedAt.Equal(e.now()) || !p.UpdatedAt.Equal(e.now()) {
			e.t.Fatalf("person %+v: id or timestamps not filled", *p)
		}
		ids[p.ID] = true
	}
	if people[9].ID != "chosen-id" || people[7].State != store.StateInvited {
		e.t.Fatalf("id %q, state %q", people[9].ID, people[7].State)
	}
	for _, i := range []int{0, 11, 999, 1000, 2499} {
		got, err := e.st.GetPersonByEmail(e.ctx, people[i].Email)
		e.ok(err, "get created person")
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", *people[i]) {
			e.t.Fatalf("get\n got %+v\nwant %+v", got, *people[i])
		}
	}
	if n := e.countPeople(); n != 2501 {
		e.t.Fatalf("%d people, want 2501", n)
	}

	// Conflicts: in the batch, or with a stored person, in the last chunk;
	// nothing of the batch is written, and the people passed are unchanged.
	for name, mod := range map[string]func([]*store.Person){
		"username twice":           func(ps []*store.Person) { ps[1500].Username = ps[3].Username },
		"email twice, folded":      func(ps []*store.Person) { ps[1500].Email = "Q3@EXAMPLE.ORG" },
		"id twice":                 func(ps []*store.Person) { ps[1].ID, ps[2].ID = "same", "same" },
		"username stored":          func(ps []*store.Person) { ps[2100].Username = existing.Username },
		"email stored, folded":     func(ps []*store.Person) { ps[2100].Email = "TAKEN@example.org" },
		"email of the first batch": func(ps []*store.Person) { ps[1999].Email = people[2000].Email },
	} {
		batch := newPeople("q", 2200)
		mod(batch)
		err := e.st.CreatePeople(e.ctx, batch)
		e.is(err, store.ErrConflict, name)
		if batch[0].CreatedAt != (time.Time{}) {
			e.t.Fatalf("%s: the people passed were filled in", name)
		}
		if n := e.countPeople(); n != 2501 {
			e.t.Fatalf("%s: %d people, want 2501 (nothing of the batch)", name, n)
		}
	}
	for name, mod := range map[string]func(*store.Person){
		"empty username": func(p *store.Person) { p.Username = "" },
		"empty email":    func(p *store.Person) { p.Email = " " },
		"unknown state":  func(p *store.Person) { p.State = "asleep" },
	} {
		batch := newPeople("r", 3)
		mod(batch[2])
		e.is(e.st.CreatePeople(e.ctx, batch), store.ErrInvalid, name)
	}
	if n := e.countPeople(); n != 2501 {
		e.t.Fatalf("%d people after invalid batches, want 2501", n)
	}
}

// testBatchPeopleConflictInTx: inside a transaction, a batch that
// conflicts in its last chunk writes nothing, and the transaction goes on
// (as after CreatePerson's ErrConflict); a transaction that fails after a
// batch keeps none of it.
func testBatchPeopleConflictInTx(e *env) {
	e.person("taken")
	err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		first := newPeople("a", 10)
		if err := tx.CreatePeople(ctx, first); err != nil {
			return err
		}
		batch := newPeople("b", 1500)
		batch[1400].Username = "taken"
		if err := tx.CreatePeople(ctx, batch); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("conflicting batch: %v, want ErrConflict", err)
		}
		if _, err := tx.GetPersonByEmail(ctx, batch[0].Email); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("the first chunk of a failed batch is visible: %v", err)
		}
		p := store.Person{Username: "after", Email: "after@example.org", State: store.StateInvited}
		return tx.CreatePerson(ctx, &p)
	})
	e.ok(err, "transaction after a conflicting batch")
	if n := e.countPeople(); n != 12 {
		e.t.Fatalf("%d people, want 12 (taken, 10 of the first batch, after)", n)
	}
	boom := errors.New("boom")
	err = e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreatePeople(ctx, newPeople("c", 1200)); err != nil {
			return err
		}
		return boom
	})
	e.is(err, boom, "failed transaction")
	if n := e.countPeople(); n != 12 {
		e.t.Fatalf("%d people after a rolled back batch, want 12", n)
	}
}

func testBatchMembershipsGrants(e *env) {
	s1, s2 := e.structure("s1"), e.structure("s2")
	nc := e.service(s1.ID, "nc")
	site := e.service(s1.ID, "site")
	people := newPeople("m", 1100)
	e.ok(e.st.CreatePeople(e.ctx, people), "create people")
	e.ok(e.st.PutMemberships(e.ctx, nil), "no memberships")
	e.ok(e.st.PutGrants(e.ctx, nil), "no grants")

	var ms []store.Membership
	var gs []store.Grant
	for _, p := range people {
		ms = append(ms, store.Membership{PersonID: p.ID, StructureID: s1.ID})
		gs = append(gs, store.Grant{PersonID: p.ID, ServiceID: nc.ID, Role: "user"})
	}
	// Given twice: the last counts.
	ms = append(ms, store.Membership{PersonID: people[5].ID, StructureID: s1.ID, Referent: true},
		store.Membership{PersonID: people[5].ID, StructureID: s2.ID})
	gs = append(gs, store.Grant{PersonID: people[5].ID, ServiceID: nc.ID, Role: "admin"},
		store.Grant{PersonID: people[5].ID, ServiceID: site.ID, Role: "editor"})
	e.ok(e.st.PutMemberships(e.ctx, ms), "put memberships")
	e.ok(e.st.PutGrants(e.ctx, gs), "put grants")
	members, err := e.st.ListMemberships(e.ctx, store.MembershipFilter{StructureID: s1.ID})
	e.ok(err, "list memberships")
	grants, err := e.st.ListGrants(e.ctx, store.GrantFilter{StructureID: s1.ID})
	e.ok(err, "list grants")
	if len(members) != 1100 || len(grants) != 1101 {
		e.t.Fatalf("%d memberships, %d grants; want 1100, 1101", len(members), len(grants))
	}
	for _, m := range members {
		if m.Referent != (m.PersonID == people[5].ID) || !m.CreatedAt.Equal(e.now()) {
			e.t.Fatalf("membership %+v", m)
		}
	}
	for _, g := range grants {
		want := "user"
		switch {
		case g.PersonID == people[5].ID && g.ServiceID == nc.ID:
			want = "admin"
		case g.ServiceID == site.ID:
			want = "editor"
		}
		if g.Role != want {
			e.t.Fatalf("grant %+v, want role %q", g, want)
		}
	}
	// Putting again changes the referent flag and role of existing rows.
	e.clock.Advance(time.Hour)
	e.ok(e.st.PutMemberships(e.ctx, []store.Membership{{PersonID: people[5].ID, StructureID: s1.ID}}), "put again")
	e.ok(e.st.PutGrants(e.ctx, []store.Grant{{PersonID: people[6].ID, ServiceID: nc.ID, Role: "admin"}}), "put again")
	m, err := e.st.ListMemberships(e.ctx, store.MembershipFilter{PersonID: people[5].ID, StructureID: s1.ID})
	e.ok(err, "list")
	g, err := e.st.ListGrants(e.ctx, store.GrantFilter{PersonID: people[6].ID})
	e.ok(err, "list")
	if len(m) != 1 || m[0].Referent || len(g) != 1 || g[0].Role != "admin" {
		e.t.Fatalf("after a second put: %+v %+v", m, g)
	}

	// An unknown person or service, last of a batch of two statements:
	// nothing of the batch is written.
	others := newPeople("o", 1100)
	e.ok(e.st.CreatePeople(e.ctx, others), "create others")
	ms, gs = nil, nil
	for _, p := range others {
		ms = append(ms, store.Membership{PersonID: p.ID, StructureID: s2.ID})
		gs = append(gs, store.Grant{PersonID: p.ID, ServiceID: site.ID, Role: "editor"})
	}
	e.is(e.st.PutMemberships(e.ctx, append(ms, store.Membership{PersonID: "nobody", StructureID: s2.ID})),
		store.ErrNotFound, "unknown person")
	e.is(e.st.PutMemberships(e.ctx, append(ms, store.Membership{PersonID: others[0].ID, StructureID: "nowhere"})),
		store.ErrNotFound, "unknown structure")
	e.is(e.st.PutGrants(e.ctx, append(gs, store.Grant{PersonID: others[0].ID, ServiceID: "nothing"})),
		store.ErrNotFound, "unknown service")
	e.is(e.st.PutGrants(e.ctx, []store.Grant{{PersonID: others[0].ID}}), store.ErrInvalid, "empty service")
	e.is(e.st.PutMemberships(e.ctx, []store.Membership{{StructureID: s2.ID}}), store.ErrInvalid, "empty person")
	members, err = e.st.ListMemberships(e.ctx, store.MembershipFilter{StructureID: s2.ID})
	e.ok(err, "list memberships")
	grants, err = e.st.ListGrants(e.ctx, store.GrantFilter{ServiceID: site.ID})
	e.ok(err, "list grants")
	if len(members) != 1 || len(grants) != 1 {
		e.t.Fatalf("failed batches wrote: %d memberships of s2, %d grants on site; want 1, 1", len(members), len(grants))
	}
}

func testBatchTokens(e *env) {
	a, b := e.person("a"), e.person("b")
	exp := e.now().Add(time.Hour)
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("old-a"), PersonID: a.ID, Purpose: store.PurposeActivate, ExpiresAt: exp}), "issue")
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("reset-a"), PersonID: a.ID, Purpose: store.PurposeReset, ExpiresAt: exp}), "issue")
	e.ok(e.st.IssueTokens(e.ctx, nil), "empty batch")
	e.ok(e.st.IssueTokens(e.ctx, []store.Token{
		{Hash: hash("a1"), PersonID: a.ID, Purpose: store.PurposeActivate, ExpiresAt: exp},
		{Hash: hash("b1"), PersonID: b.ID, Purpose: store.PurposeActivate, ExpiresAt: exp},
		{Hash: hash("a2"), PersonID: a.ID, Purpose: store.PurposeActivate, ExpiresAt: exp},
	}), "issue tokens")
	for h, want := range map[string]bool{"old-a": false, "a1": false, "a2": true, "b1": true, "reset-a": true} {
		tok, err := e.st.GetToken(e.ctx, hash(h))
		if want {
			e.ok(err, "get "+h)
			if !tok.CreatedAt.Equal(e.now()) && h != "reset-a" {
				e.t.Fatalf("token %s: %+v", h, tok)
			}
		} else {
			e.is(err, store.ErrNotFound, "get "+h+" (invalidated)")
		}
	}
	e.is(e.st.IssueTokens(e.ctx, []store.Token{
		{Hash: hash("c1"), PersonID: b.ID, Purpose: store.PurposeReset, ExpiresAt: exp},
		{Hash: hash("a2"), PersonID: a.ID, Purpose: store.PurposeReset, ExpiresAt: exp},
	}), store.ErrConflict, "stored hash")
	e.is(e.st.IssueTokens(e.ctx, []store.Token{
		{Hash: hash("c2"), PersonID: b.ID, Purpose: store.PurposeReset, ExpiresAt: exp},
		{Hash: hash("c2"), PersonID: a.ID, Purpose: store.PurposeReset, ExpiresAt: exp},
	}), store.ErrConflict, "hash twice")
	e.is(e.st.IssueTokens(e.ctx, []store.Token{
		{Hash: hash("c3"), PersonID: "nobody", Purpose: store.PurposeReset, ExpiresAt: exp},
	}), store.ErrNotFound, "unknown person")
	for name, tok := range map[string]store.Token{
		"no hash":    {PersonID: a.ID, Purpose: store.PurposeReset, ExpiresAt: exp},
		"no person":  {Hash: hash("x"), Purpose: store.PurposeReset, ExpiresAt: exp},
		"no purpose": {Hash: hash("x"), PersonID: a.ID, ExpiresAt: exp},
		"no expiry":  {Hash: hash("x"), PersonID: a.ID, Purpose: store.PurposeReset},
	} {
		e.is(e.st.IssueTokens(e.ctx, []store.Token{tok}), store.ErrInvalid, name)
	}
	// The failed batches changed nothing: b's activation and a's reset
	// token are still there, c1 was never written.
	for _, h := range []string{"b1", "reset-a", "a2"} {
		_, err := e.st.GetToken(e.ctx, hash(h))
		e.ok(err, "get "+h+" after failed batches")
	}
	_, err := e.st.GetToken(e.ctx, hash("c1"))
	e.is(err, store.ErrNotFound, "c1 of a failed batch")
}

func testBatchJobs(e *env) {
	e.st.SetDisabledJobSinks("provision")
	stored := store.Job{Kind: "ldap.person", DedupeKey: "ldap.person:1", Payload: []byte(`{"person_id":"1"}`)}
	_, err := e.st.EnqueueJob(e.ctx, &stored)
	e.ok(err, "enqueue")
	out, err := e.st.EnqueueJobs(e.ctx, nil)
	e.ok(err, "empty batch")
	if len(out) != 0 {
		e.t.Fatalf("empty batch: %v", out)
	}
	later := e.now().Add(time.Hour)
	js := []*store.Job{
		{Kind: "ldap.person", DedupeKey: "ldap.person:1"},                       // pending in the store
		{Kind: "ldap.person", DedupeKey: "ldap.person:2", Payload: []byte(`2`)}, // new
		{Kind: "mail.activate", Payload: []byte(`a`), MaxAttempts: 3},           // no key
		{Kind: "ldap.person", DedupeKey: "ldap.person:2", Payload: []byte(`x`)}, // earlier in the batch
		{Kind: "mail.activate", Payload: []byte(`b`), RunAfter: later},          // no key
		{Kind: "provision.account", DedupeKey: "provision:1"},                   // disabled sink
		{Kind: "provision.account"},                                             // disabled sink
	}
	out, err = e.st.EnqueueJobs(e.ctx, js)
	e.ok(err, "enqueue jobs")
	if want := []bool{false, true, true, false, true, false, false}; !slices.Equal(out, want) {
		e.t.Fatalf("inserted = %v, want %v", out, want)
	}
	prev := stored.ID
	for i, j := range js {
		if !out[i] {
			if j.ID != 0 || j.State != "" {
				e.t.Fatalf("job %d not inserted but filled: %+v", i, *j)
			}
			continue
		}
		if j.ID <= prev || j.State != store.JobPending || !j.CreatedAt.Equal(e.now()) {
			e.t.Fatalf("job %d: %+v (ids must grow in batch order)", i, *j)
		}
		prev = j.ID
		got, err := e.st.GetJob(e.ctx, j.ID)
		e.ok(err, "get job")
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", *j) {
			e.t.Fatalf("get\n got %+v\nwant %+v", got, *j)
		}
	}
	if !js[4].RunAfter.Equal(later) || !js[2].RunAfter.Equal(e.now()) || js[2].MaxAttempts != 3 {
		e.t.Fatalf("run after / max attempts: %+v %+v", *js[2], *js[4])
	}
	// A running job does not count, as for EnqueueJob.
	claimed, err := e.st.ClaimJobs(e.ctx, store.ClaimRequest{Kinds: []string{"ldap.person"}, Limit: 10, Lease: time.Minute})
	e.ok(err, "claim")
	if len(claimed) != 2 {
		e.t.Fatalf("claimed %d", len(claimed))
	}
	out, err = e.st.EnqueueJobs(e.ctx, []*store.Job{{Kind: "ldap.person", DedupeKey: "ldap.person:1"}})
	e.ok(err, "enqueue while running")
	if !out[0] {
		e.t.Fatal("a running job deduplicated a new one")
	}
	// An invalid job anywhere: nothing is enqueued.
	before, err := e.st.CountJobs(e.ctx)
	e.ok(err, "count")
	for name, bad := range map[string]*store.Job{"empty kind": {}, "negative attempts": {Kind: "x", MaxAttempts: -1}} {
		_, err := e.st.EnqueueJobs(e.ctx, []*store.Job{{Kind: "mail.activate"}, bad})
		e.is(err, store.ErrInvalid, name)
	}
	// A transaction that fails after a batch keeps none of it.
	boom := errors.New("boom")
	err = e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.EnqueueJobs(ctx, []*store.Job{{Kind: "mail.activate"}, {Kind: "ldap.person", DedupeKey: "k"}}); err != nil {
			return err
		}
		return boom
	})
	e.is(err, boom, "failed transaction")
	after, err := e.st.CountJobs(e.ctx)
	e.ok(err, "count")
	if fmt.Sprint(after) != fmt.Sprint(before) {
		e.t.Fatalf("jobs %v, want %v", after, before)
	}
}

// testBatchJobsMany enqueues jobs over several statements, keyed and not,
// and checks that each got the id of its own row.
func testBatchJobsMany(e *env) {
	var js []*store.Job
	for i := range 2500 {
		j := &store.Job{Kind: "mail.activate", Payload: fmt.Appendf(nil, `{"n":%d}`, i)}
		if i%3 == 0 {
			j.Kind, j.DedupeKey = "ldap.person", fmt.Sprintf("ldap.person:%d", i)
		}
		js = append(js, j)
	}
	// Some keys already pending, in the second and third statements.
	for _, i := range []int{1200, 2400} {
		_, err := e.st.EnqueueJob(e.ctx, &store.Job{Kind: "ldap.person", DedupeKey: js[i].DedupeKey, Payload: []byte(`{}`)})
		e.ok(err, "enqueue")
	}
	out, err := e.st.EnqueueJobs(e.ctx, js)
	e.ok(err, "enqueue jobs")
	ids := map[int64]bool{}
	for i, j := range js {
		if out[i] != (i != 1200 && i != 2400) {
			e.t.Fatalf("job %d inserted = %v", i, out[i])
		}
		if !out[i] {
			continue
		}
		if ids[j.ID] {
			e.t.Fatalf("id %d twice", j.ID)
		}
		ids[j.ID] = true
		got, err := e.st.GetJob(e.ctx, j.ID)
		e.ok(err, "get job")
		if string(got.Payload) != string(j.Payload) || got.DedupeKey != j.DedupeKey {
			e.t.Fatalf("job %d has the id of another: got %s %q, want %s %q", i, got.Payload, got.DedupeKey, j.Payload, j.DedupeKey)
		}
	}
}
