package ldapsync

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// setEmailRaw writes a person's email straight into the store's row,
// bypassing every validation (as a row written before the import refused
// invisible characters would be).
func setEmailRaw(t *testing.T, st store.Store, username, email string) {
	t.Helper()
	db, ok := st.(interface{ SQL() *sql.DB })
	if !ok {
		t.Fatalf("%T has no SQL handle", st)
	}
	lit := "'" + strings.ReplaceAll(email, "'", "''") + "'"
	fold := "'" + strings.ReplaceAll(store.FoldEmail(email), "'", "''") + "'"
	res, err := db.SQL().ExecContext(context.Background(),
		"UPDATE people SET email = "+lit+", email_fold = "+fold+" WHERE username = '"+username+"'")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%d rows updated", n)
	}
}

// addPerson adds a member of f's structure with the Nextcloud role.
func (f *fixture) addPerson(t *testing.T, username, role string) store.Person {
	t.Helper()
	ctx := context.Background()
	p := store.Person{Username: username, Email: username + "@le-beta.org", GivenName: username, FamilyName: "Z",
		Language: "fr", State: store.StateInvited}
	if err := f.st.CreatePerson(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if err := f.st.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: f.structure.ID}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: f.nextcloud.ID, Role: role}); err != nil {
		t.Fatal(err)
	}
	f.people[username] = p
	return p
}

// TestRefusedEntryIsIsolated puts among valid people one whose email slapd
// refuses (mail is an IA5String; a zero-width space is not ASCII): the
// sync, the structure job and the person jobs write everybody else and
// every group (without her), report her by name with slapd's reason, and do
// not retry what cannot succeed; the unreachable directory stays a
// different, retried, case.
func TestRefusedEntryIsIsolated(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	backendsAt(t, clock.Now, func(t *testing.T, st store.Store) {
		e := newEnv(t)
		e.syncer.Source = st
		ctx := context.Background()
		l := e.syncer.Layout
		f := seed(t, st, hashPassword(t, "alice's password"))
		zoe := f.addPerson(t, "zoe", "admin")
		const bad = "zoe\u200b@le-beta.org"
		setEmailRaw(t, st, "zoe", bad)
		valid := []string{"alice", "bob", "carol"}

		// ldap diff says beforehand that the entry will be refused.
		plan, err := e.syncer.DiffStore(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if r := plan.Refusals(); len(r) != 1 || r[0].DN != l.PersonDN("zoe") || !strings.Contains(plan.String(), `! refused by the directory: mail "zoe\u200b@le-beta.org"`) {
			t.Fatalf("diff does not announce the refusal:\n%s", plan)
		}

		// ldap sync: everything but zoe is written, groups included.
		plan, _, err = e.syncer.SyncStore(ctx, "")
		var refused *RefusedError
		if !errors.As(err, &refused) || !errors.Is(err, ErrRejected) || IsUnavailable(err) {
			t.Fatalf("sync: %v, want a RefusedError", err)
		}
		msg := err.Error()
		t.Logf("sync output:\n%s\nerror: %s", plan, msg)
		for _, want := range []string{"refused 1 entry (everything else was applied)", `person zoe <zoe\u200b@le-beta.org>: LDAP Result Code 21 "Invalid Attribute Syntax": mail: value #0 invalid per syntax`} {
			if !strings.Contains(msg, want) {
				t.Errorf("sync error does not say %q:\n%s", want, msg)
			}
		}
		if !strings.Contains(plan.String(), "! refused by the directory: LDAP Result Code 21") {
			t.Errorf("sync output does not mark the refusal:\n%s", plan)
		}
		for _, name := range valid {
			if got := e.search(t, l.PersonDN(name), "(objectClass=inetOrgPerson)", "1.1"); len(got) != 1 {
				t.Fatalf("%s is not in the directory", name)
			}
		}
		if got := e.search(t, l.People(), "(uid=zoe)", "1.1"); len(got) != 0 {
			t.Fatal("zoe's entry was written")
		}
		svc := l.GroupDN("le-beta", "nextcloud", "")
		wantMembers := keys(l.Placeholder(), l.PersonDN("alice"), l.PersonDN("bob"), l.PersonDN("carol"))
		if got := e.members(t, svc); !slices.Equal(got, wantMembers) {
			t.Fatalf("service group members %q, want %q", got, wantMembers)
		}
		if got := e.members(t, l.GroupDN("le-beta", "nextcloud", "admin")); !slices.Equal(got, keys(l.Placeholder())) {
			t.Fatalf("the admin group names the refused person: %q", got)
		}
		if got := e.groupsOf(t, "carol"); !slices.Contains(got, "paheko-Bureau, \"CA\" & co") {
			t.Fatalf("carol's paheko role group was not written: %q", got)
		}

		// The jobs: one run each, no retry of what cannot succeed; the
		// structure job's error and zoe's own job name her and slapd's
		// reason; everybody else's job is done.
		log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
		r := jobs.NewRunner(st, jobs.Config{Workers: 2, MaxAttempts: 10, Now: clock.Now}, log)
		e.syncer.Register(r)
		err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			for _, p := range f.people {
				if _, err := jobs.Enqueue(ctx, tx, jobs.KindLDAPPerson, jobs.DedupeLDAPPerson(p.ID), jobs.PersonRef{PersonID: p.ID}); err != nil {
					return err
				}
			}
			_, err := jobs.Enqueue(ctx, tx, jobs.KindLDAPStructure, jobs.DedupeLDAPStructure(f.structure.ID), jobs.StructureRef{StructureID: f.structure.ID})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		all, err := st.ListJobs(ctx, store.JobFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range all {
			isZoe := strings.Contains(string(j.Payload), zoe.ID)
			switch {
			case j.Kind == jobs.KindLDAPStructure || isZoe:
				if j.State != store.JobDead || j.Attempts != 1 || !strings.Contains(j.LastError, `zoe <zoe\u200b@le-beta.org>`) ||
					!strings.Contains(j.LastError, "invalid per syntax") {
					t.Errorf("%s job: %s after %d attempts, last error %q; want dead at once, naming zoe and slapd's reason",
						j.Kind, j.State, j.Attempts, j.LastError)
				}
			case j.State != store.JobDone:
				t.Errorf("%s job %s: %s (%s)", j.Kind, j.Payload, j.State, j.LastError)
			}
		}

		// Fixed in the store, the person's next job writes her and puts
		// her in her groups.
		setEmailRaw(t, st, "zoe", "zoe@le-beta.org")
		if err := e.syncer.HandlePerson(ctx, personJob(zoe.ID)); err != nil {
			t.Fatal(err)
		}
		if got := e.groupsOf(t, "zoe"); !slices.Equal(got, []string{"nextcloud", "nextcloud-admin"}) {
			t.Fatalf("zoe's groups once fixed: %q", got)
		}
		e.requireStoreInSync(t, "")

		// A refused change to an existing entry leaves it as it was, yet
		// her memberships still follow the store (she becomes a user).
		setEmailRaw(t, st, "zoe", "zoé@le-beta.org")
		if err := st.PutGrant(ctx, store.Grant{PersonID: zoe.ID, ServiceID: f.nextcloud.ID, Role: "user"}); err != nil {
			t.Fatal(err)
		}
		err = e.syncer.HandlePerson(ctx, personJob(zoe.ID))
		if !errors.As(err, &refused) || !strings.Contains(err.Error(), `zoe <zo\u00e9@le-beta.org>`) {
			t.Fatalf("person job with a refused change: %v", err)
		}
		if got := e.search(t, l.PersonDN("zoe"), "(objectClass=*)", "mail")[0].GetAttributeValue("mail"); got != "zoe@le-beta.org" {
			t.Fatalf("zoe's mail is now %q", got)
		}
		if got := e.groupsOf(t, "zoe"); !slices.Equal(got, []string{"nextcloud", "nextcloud-user"}) {
			t.Fatalf("zoe's groups after a refused change: %q", got)
		}
	})
}
