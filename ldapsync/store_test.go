package ldapsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
)

// backends runs f against a fresh SQLite store and a fresh PostgreSQL
// database.
func backends(t *testing.T, f func(t *testing.T, st store.Store)) {
	backendsAt(t, time.Now, f)
}

// backendsAt is backends with the stores' clock.
func backendsAt(t *testing.T, now func() time.Time, f func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sesame.db"), now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		f(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := postgres.Open(context.Background(), testenv.Postgres(t), now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		f(t, db)
	})
}

// fixture is a structure with a Nextcloud and a Paheko, and people.
type fixture struct {
	st        store.Store
	structure store.Structure
	nextcloud store.Service
	paheko    store.Service
	people    map[string]store.Person
}

func seed(t *testing.T, st store.Store, hash string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st, people: map[string]store.Person{}}
	f.structure = store.Structure{Slug: "le-beta", Name: "Le Bêta", Contact: "ref@le-beta.org"}
	if err := st.CreateStructure(ctx, &f.structure); err != nil {
		t.Fatal(err)
	}
	svc := func(kind store.ServiceKind, slug, name, role string, roles []string) store.Service {
		s := store.Service{StructureID: f.structure.ID, Kind: kind, Slug: slug, Name: name, BaseURL: "https://" + slug + ".le-beta.org",
			DefaultRole: role, Roles: roles, ClientID: slug + "-le-beta", ClientSecretHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
			RedirectURIs: []string{"https://" + slug + ".le-beta.org/cb"}, RequirePKCE: true, SigningAlg: "RS256", AuthMethod: "client_secret_basic"}
		if err := st.CreateService(ctx, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	f.nextcloud = svc(store.KindNextcloud, "nextcloud", "Nextcloud", "user", nil)
	f.paheko = svc(store.KindPaheko, "paheko", "Paheko", "Membre", []string{"Membre", "Bureau, \"CA\" & co"})
	for i, name := range []string{"alice", "bob", "carol"} {
		p := store.Person{Username: name, Email: name + "@le-beta.org", GivenName: name, FamilyName: fmt.Sprintf("Família %d", i),
			DisplayName: name + " Família", Language: "fr", State: store.StateInvited}
		if name == "alice" {
			p.State, p.PasswordHash = store.StateActive, hash
		}
		if err := st.CreatePerson(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if err := st.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: f.structure.ID}); err != nil {
			t.Fatal(err)
		}
		if err := st.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: f.nextcloud.ID, Role: "user"}); err != nil {
			t.Fatal(err)
		}
		f.people[name] = p
	}
	if err := st.PutGrant(ctx, store.Grant{PersonID: f.people["carol"].ID, ServiceID: f.paheko.ID, Role: "Bureau, \"CA\" & co"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (e *env) requireStoreInSync(t *testing.T, scope string) {
	t.Helper()
	plan, err := e.syncer.DiffStore(context.Background(), scope)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() {
		t.Fatalf("ldap diff %q is not empty:\n%s", scope, plan)
	}
}

func (e *env) groupsOf(t *testing.T, username string) []string {
	t.Helper()
	var out []string
	for _, g := range e.search(t, e.syncer.Layout.Structures(), "(member="+EscapeFilterValue(e.syncer.Layout.PersonDN(username))+")", "cn") {
		out = append(out, g.GetAttributeValue("cn"))
	}
	slices.Sort(out)
	return out
}

func TestStoreDrivenSync(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		e := newEnv(t)
		e.syncer.Source = st
		ctx := context.Background()
		f := seed(t, st, hashPassword(t, "alice's password"))
		l := e.syncer.Layout

		plan, err := e.syncer.DiffStore(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		// 3 people, 1 structure, 6 groups: nextcloud, -user, -admin;
		// paheko, -Membre, -Bureau... (the role that needs escaping).
		if c := plan.Counts(); c[OpAdd] != 3+1+6 || len(plan.Changes) != 10 {
			t.Fatalf("first plan: %v\n%s", c, plan)
		}
		if _, _, err := e.syncer.SyncStore(ctx, ""); err != nil {
			t.Fatal(err)
		}
		e.requireStoreInSync(t, "")
		e.requireStoreInSync(t, "le-beta")

		// After the sync and a password set, the person binds.
		if err := e.bind(l.PersonDN("alice"), "alice's password"); err != nil {
			t.Fatalf("alice binds: %v", err)
		}
		if err := e.bind(l.PersonDN("alice"), "alice's passwort"); err == nil {
			t.Fatal("a wrong password binds")
		}
		if got := e.groupsOf(t, "carol"); !slices.Equal(got, []string{"nextcloud", "nextcloud-user", "paheko", "paheko-Bureau, \"CA\" & co"}) {
			t.Fatalf("carol's groups: %q", got)
		}

		// Bob sets his password: the job writes the hash.
		bob, err := st.UpdatePerson(ctx, f.people["bob"].ID, func(p *store.Person) error {
			p.State, p.PasswordHash = store.StateActive, hashPassword(t, "bob's password")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.syncer.HandlePerson(ctx, personJob(bob.ID)); err != nil {
			t.Fatal(err)
		}
		if err := e.bind(l.PersonDN("bob"), "bob's password"); err != nil {
			t.Fatalf("bob binds: %v", err)
		}

		// A re-import makes alice an admin: she moves between role groups.
		if err := st.PutGrant(ctx, store.Grant{PersonID: f.people["alice"].ID, ServiceID: f.nextcloud.ID, Role: "admin"}); err != nil {
			t.Fatal(err)
		}
		if err := e.syncer.HandlePerson(ctx, personJob(f.people["alice"].ID)); err != nil {
			t.Fatal(err)
		}
		if got := e.groupsOf(t, "alice"); !slices.Equal(got, []string{"nextcloud", "nextcloud-admin"}) {
			t.Fatalf("alice's groups after becoming admin: %q", got)
		}

		// A sync-mode import drops bob from the structure: his membership
		// and grants end, and the job takes him out of every group.
		if err := st.DeleteGrant(ctx, bob.ID, f.nextcloud.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteMembership(ctx, bob.ID, f.structure.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.syncer.HandlePerson(ctx, personJob(bob.ID)); err != nil {
			t.Fatal(err)
		}
		if got := e.groupsOf(t, "bob"); len(got) != 0 {
			t.Fatalf("bob is still in %q", got)
		}

		// Carol is disabled: out of every group, no password.
		if _, err := st.UpdatePerson(ctx, f.people["carol"].ID, func(p *store.Person) error { p.State = store.StateDisabled; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := e.syncer.HandlePerson(ctx, personJob(f.people["carol"].ID)); err != nil {
			t.Fatal(err)
		}
		if got := e.groupsOf(t, "carol"); len(got) != 0 {
			t.Fatalf("disabled carol is still in %q", got)
		}
		e.requireStoreInSync(t, "")

		// The structure job converges the structure's part.
		if err := e.syncer.HandleStructure(ctx, structureJob(f.structure.ID)); err != nil {
			t.Fatal(err)
		}

		// Bad jobs are rejected, not retried forever.
		for _, j := range []store.Job{
			{ID: 1, Kind: jobs.KindLDAPPerson, Payload: []byte(`{`)},
			personJob("no-such-person"),
		} {
			if err := e.syncer.HandlePerson(ctx, j); !errors.Is(err, ErrRejected) {
				t.Errorf("job %s: %v, want ErrRejected", j.Payload, err)
			}
		}
		if err := e.syncer.HandleStructure(ctx, structureJob("no-such-structure")); !errors.Is(err, ErrRejected) {
			t.Errorf("unknown structure: %v, want ErrRejected", err)
		}
	})
}

func personJob(id string) store.Job {
	b, _ := json.Marshal(jobs.PersonRef{PersonID: id})
	return store.Job{ID: 7, Kind: jobs.KindLDAPPerson, Payload: b}
}

func structureJob(id string) store.Job {
	b, _ := json.Marshal(jobs.StructureRef{StructureID: id})
	return store.Job{ID: 8, Kind: jobs.KindLDAPStructure, Payload: b}
}

// TestStoreSyncKilledMidway seeds 1,000 people in the store, kills slapd in
// the middle of `ldap sync`, restarts it: a second sync finishes and
// `ldap diff` (DiffStore) is empty, with no person or member twice.
func TestStoreSyncKilledMidway(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		e := newEnv(t)
		e.syncer.Source = st
		ctx := context.Background()
		f := seed(t, st, "")
		err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			for i := range 997 {
				p := store.Person{Username: fmt.Sprintf("m%04d", i), Email: fmt.Sprintf("m%04d@le-beta.org", i), GivenName: "M",
					FamilyName: fmt.Sprint(i), Language: "fr", State: store.StateInvited}
				if err := tx.CreatePerson(ctx, &p); err != nil {
					return err
				}
				if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: f.structure.ID}); err != nil {
					return err
				}
				if err := tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: f.nextcloud.ID, Role: []string{"user", "admin"}[i%2]}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		k := &killAfter{Directory: e.conn, n: 500, kill: e.slapd.Stop}
		crashing := copyOf(e.syncer)
		crashing.Dir = k
		if _, _, err := crashing.SyncStore(ctx, ""); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("sync with slapd killed: %v", err)
		}
		if _, err := e.syncer.DiffStore(ctx, ""); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("diff with slapd down: %v", err)
		}
		e.slapd.Start()
		if _, _, err := e.syncer.SyncStore(ctx, ""); err != nil {
			t.Fatal(err)
		}
		e.requireStoreInSync(t, "")
		l := e.syncer.Layout
		if n := len(e.search(t, l.People(), "(objectClass=inetOrgPerson)", "1.1")); n != 1000 {
			t.Fatalf("%d people in the directory, want 1000", n)
		}
		if n := len(e.members(t, l.GroupDN("le-beta", "nextcloud", ""))); n != 1001 {
			t.Fatalf("%d members in the service group, want 1001", n)
		}
	})
}
