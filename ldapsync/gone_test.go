package ldapsync

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// A person disabled then deleted before the directory job of the disable
// ran (the directory was down, the hand was quick): the plain ldap.person
// job finds nobody in the store and is refused, but the job manage queues
// at deletion (carrying the username) empties the entry all the same — no
// password to bind with, in no group — through the batch and the single
// handler alike.
func TestDeletedPersonEntryEmptied(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		e := newEnv(t)
		e.syncer.Source = st
		ctx := context.Background()
		f := seed(t, st, hashPassword(t, "alice's password"))
		if _, _, err := e.syncer.SyncStore(ctx, ""); err != nil {
			t.Fatal(err)
		}
		alice := f.people["alice"]
		if err := e.bind(e.syncer.Layout.PersonDN("alice"), "alice's password"); err != nil {
			t.Fatalf("before: %v", err)
		}
		if _, err := st.UpdatePerson(ctx, alice.ID, func(p *store.Person) error { p.State = store.StateDisabled; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := st.DeletePerson(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		if errs := e.syncer.HandlePersonBatch(ctx, []store.Job{personJob(alice.ID)}); !errors.Is(errs[0], ErrRejected) {
			t.Fatalf("the plain job for a deleted person: %v, want rejected", errs[0])
		}
		b, _ := json.Marshal(jobs.PersonRef{PersonID: alice.ID, Gone: &jobs.GonePerson{Username: alice.Username,
			GivenName: alice.GivenName, FamilyName: alice.FamilyName, DisplayName: alice.DisplayName, Email: alice.Email}})
		gone := store.Job{ID: 8, Kind: jobs.KindLDAPPerson, Payload: b}
		if errs := e.syncer.HandlePersonBatch(ctx, []store.Job{gone, personJob(f.people["bob"].ID)}); errs[0] != nil || errs[1] != nil {
			t.Fatalf("the deletion's job: %v (bob beside it: %v)", errs[0], errs[1])
		}
		if err := e.bind(e.syncer.Layout.PersonDN("alice"), "alice's password"); err == nil {
			t.Error("the deleted person still binds to the directory")
		}
		if g := e.groupsOf(t, "alice"); len(g) > 0 {
			t.Errorf("the deleted person is still in groups %q", g)
		}
		if g := e.groupsOf(t, "bob"); len(g) == 0 {
			t.Error("bob, beside her in the batch, lost his groups")
		}
		// Again, by the single handler: nothing left to do.
		if err := e.syncer.HandlePerson(ctx, gone); err != nil {
			t.Fatalf("single handler: %v", err)
		}
		// A username with no entry: nothing to do.
		b, _ = json.Marshal(jobs.PersonRef{PersonID: "x", Gone: &jobs.GonePerson{Username: "nobody.here"}})
		if err := e.syncer.HandlePerson(ctx, store.Job{ID: 9, Kind: jobs.KindLDAPPerson, Payload: b}); err != nil {
			t.Fatalf("no entry: %v", err)
		}
	})
}

// A person deleted while the directory was down, then imported anew under
// the same username before the deletion's job ran: the entry is the new
// person's, and the deletion's job leaves it (their password, their
// groups) alone.
func TestDeletedUsernameTakenAgain(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		e := newEnv(t)
		e.syncer.Source = st
		ctx := context.Background()
		f := seed(t, st, hashPassword(t, "alice's password"))
		alice := f.people["alice"]
		if _, err := st.UpdatePerson(ctx, alice.ID, func(p *store.Person) error { p.State = store.StateDisabled; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := st.DeletePerson(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		again := store.Person{Username: "alice", Email: "alice@le-beta.org", GivenName: "Alice", FamilyName: "Again",
			Language: "fr", State: store.StateActive, PasswordHash: hashPassword(t, "the new alice's password")}
		if err := st.CreatePerson(ctx, &again); err != nil {
			t.Fatal(err)
		}
		if err := st.PutMembership(ctx, store.Membership{PersonID: again.ID, StructureID: f.structure.ID}); err != nil {
			t.Fatal(err)
		}
		if err := st.PutGrant(ctx, store.Grant{PersonID: again.ID, ServiceID: f.nextcloud.ID, Role: "user"}); err != nil {
			t.Fatal(err)
		}
		// The directory comes back: the new person's job, then the old
		// deletion's (retried later, after a backoff).
		if errs := e.syncer.HandlePersonBatch(ctx, []store.Job{personJob(again.ID)}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		b, _ := json.Marshal(jobs.PersonRef{PersonID: alice.ID, Gone: &jobs.GonePerson{Username: alice.Username,
			Email: alice.Email}})
		gone := store.Job{ID: 8, Kind: jobs.KindLDAPPerson, Payload: b}
		if errs := e.syncer.HandlePersonBatch(ctx, []store.Job{gone}); errs[0] != nil {
			t.Fatalf("the deletion's job: %v", errs[0])
		}
		if err := e.syncer.HandlePerson(ctx, gone); err != nil {
			t.Fatalf("the deletion's job, single: %v", err)
		}
		if err := e.bind(e.syncer.Layout.PersonDN("alice"), "the new alice's password"); err != nil {
			t.Fatalf("the new alice cannot bind: %v", err)
		}
		if g := e.groupsOf(t, "alice"); len(g) == 0 {
			t.Error("the new alice lost her groups to the old one's deletion")
		}
	})
}
