package ldapsync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// TestPersonBatch runs ldap.person jobs through the batch handler: each
// job gets its own result at its own index; a bad payload, a person
// missing from the store and a person whose entry slapd refuses fail their
// own job only, for good; everybody else is written with their groups; a
// second batch brings changed memberships (a grant removed, a person
// disabled, an email fixed) to the store's state; an unreachable directory
// fails every job, to retry.
func TestPersonBatch(t *testing.T) {
	for _, bulk := range []int{1, 1000} { // the whole store read at once, or person by person
		t.Run(map[int]string{1: "bulk", 1000: "each"}[bulk], func(t *testing.T) {
			defer func(n int) { bulkLoad = n }(bulkLoad)
			bulkLoad = bulk
			testPersonBatch(t)
		})
	}
}

func testPersonBatch(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	backendsAt(t, clock.Now, func(t *testing.T, st store.Store) {
		e := newEnv(t)
		e.syncer.Source = st
		ctx := context.Background()
		l := e.syncer.Layout
		f := seed(t, st, hashPassword(t, "alice's password"))
		zoe := f.addPerson(t, "zoe", "admin")
		setEmailRaw(t, st, "zoe", "zoe\u200b@le-beta.org")
		alice, bob, carol := f.people["alice"], f.people["bob"], f.people["carol"]

		batch := []store.Job{personJob(alice.ID), personJob(zoe.ID), {ID: 9, Kind: jobs.KindLDAPPerson, Payload: []byte(`{"person`)},
			personJob(bob.ID), personJob("no-such-person"), personJob(carol.ID), personJob(alice.ID)}
		errs := e.syncer.HandlePersonBatch(ctx, batch)
		if len(errs) != len(batch) {
			t.Fatalf("%d results for %d jobs", len(errs), len(batch))
		}
		for _, i := range []int{0, 3, 5, 6} {
			if errs[i] != nil {
				t.Errorf("job %d: %v", i, errs[i])
			}
		}
		var refused *RefusedError
		if !jobs.IsPermanent(errs[1]) || !errors.As(errs[1], &refused) || !strings.Contains(errs[1].Error(), `zoe <zoe\u200b@le-beta.org>`) ||
			!strings.Contains(errs[1].Error(), "invalid per syntax") {
			t.Errorf("zoe's job: %v; want permanent, naming her and slapd's reason", errs[1])
		}
		if !jobs.IsPermanent(errs[2]) || !strings.Contains(errs[2].Error(), "bad ldap.person payload") {
			t.Errorf("bad payload: %v", errs[2])
		}
		if !jobs.IsPermanent(errs[4]) || !strings.Contains(errs[4].Error(), `no person "no-such-person"`) {
			t.Errorf("missing person: %v", errs[4])
		}
		for name, want := range map[string][]string{
			"alice": {"nextcloud", "nextcloud-user"},
			"bob":   {"nextcloud", "nextcloud-user"},
			"carol": {"nextcloud", "nextcloud-user", "paheko", "paheko-Bureau, \"CA\" & co"},
			"zoe":   nil,
		} {
			if got := e.groupsOf(t, name); !slices.Equal(got, want) {
				t.Errorf("%s's groups: %q, want %q", name, got, want)
			}
		}
		if got := e.search(t, l.People(), "(uid=zoe)", "1.1"); len(got) != 0 {
			t.Fatal("zoe's entry was written")
		}
		if err := e.bind(l.PersonDN("alice"), "alice's password"); err != nil {
			t.Fatalf("alice cannot bind: %v", err)
		}

		// Changes: bob loses Nextcloud, carol is disabled, zoe is fixed.
		if err := st.DeleteGrant(ctx, bob.ID, f.nextcloud.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdatePerson(ctx, carol.ID, func(p *store.Person) error { p.State = store.StateDisabled; return nil }); err != nil {
			t.Fatal(err)
		}
		setEmailRaw(t, st, "zoe", "zoe@le-beta.org")
		batch = []store.Job{personJob(bob.ID), personJob(carol.ID), personJob(zoe.ID), personJob(alice.ID)}
		for i, err := range e.syncer.HandlePersonBatch(ctx, batch) {
			if err != nil {
				t.Errorf("second batch, job %d: %v", i, err)
			}
		}
		for name, want := range map[string][]string{
			"alice": {"nextcloud", "nextcloud-user"},
			"bob":   nil,
			"carol": nil,
			"zoe":   {"nextcloud", "nextcloud-admin"},
		} {
			if got := e.groupsOf(t, name); !slices.Equal(got, want) {
				t.Errorf("after changes, %s's groups: %q, want %q", name, got, want)
			}
		}
		// The same as the structure's own convergence would write.
		if _, _, err := e.syncer.SyncStore(ctx, ""); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string][]string{"alice": {"nextcloud", "nextcloud-user"}, "bob": nil, "carol": nil, "zoe": {"nextcloud", "nextcloud-admin"}} {
			if got := e.groupsOf(t, name); !slices.Equal(got, want) {
				t.Errorf("after sync, %s's groups: %q, want %q", name, got, want)
			}
		}

		// Directory down: every job fails, to retry.
		e.slapd.Stop()
		for i, err := range e.syncer.HandlePersonBatch(ctx, batch) {
			if !IsUnavailable(err) || jobs.IsPermanent(err) {
				t.Errorf("slapd down, job %d: %v; want unavailable, retried", i, err)
			}
		}
	})
}
