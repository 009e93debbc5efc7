package ldapsync

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// testClock is a settable clock shared by the store and the runner.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestJobsWaitForSlapd writes people and their LDAP jobs in one
// transaction (as an import does) while slapd is down: the transaction
// commits, the jobs fail as unavailable and wait with backoff; once slapd
// is back and their time comes, they converge the directory, and a job
// blocked by a foreign entry is buried with its reason.
func TestJobsWaitForSlapd(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	backendsAt(t, clock.Now, func(t *testing.T, st store.Store) {
		e := newEnv(t)
		e.syncer.Source = st
		ctx := context.Background()
		l := e.syncer.Layout
		log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
		r := jobs.NewRunner(st, jobs.Config{Workers: 4, MaxAttempts: 10, BackoffBase: 10 * time.Second, BackoffMax: time.Minute, Now: clock.Now}, log)
		e.syncer.Register(r)

		// A hand-made entry where one of the people would go.
		foreign := ldap.NewAddRequest(l.PersonDN("p0013"), nil)
		foreign.Attribute("objectClass", []string{"inetOrgPerson"})
		foreign.Attribute("uid", []string{"p0013"})
		foreign.Attribute("cn", []string{"Hand made"})
		foreign.Attribute("sn", []string{"Hand"})
		if err := e.conn.Add(foreign); err != nil {
			t.Fatal(err)
		}

		e.slapd.Stop()
		const n = 150
		var structureID string
		err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			s := store.Structure{Slug: "le-beta", Name: "Le Bêta", Contact: "ref@le-beta.org"}
			if err := tx.CreateStructure(ctx, &s); err != nil {
				return err
			}
			structureID = s.ID
			svc := store.Service{StructureID: s.ID, Kind: store.KindNextcloud, Slug: "nextcloud", Name: "Nextcloud",
				BaseURL: "https://cloud.le-beta.org", DefaultRole: "user", ClientID: "le-beta.nextcloud",
				RedirectURIs: []string{"https://cloud.le-beta.org/cb"}, RequirePKCE: true, SigningAlg: "RS256", AuthMethod: "client_secret_basic"}
			if err := tx.CreateService(ctx, &svc); err != nil {
				return err
			}
			for i := range n {
				p := store.Person{Username: fmt.Sprintf("p%04d", i), Email: fmt.Sprintf("p%04d@le-beta.org", i), GivenName: "P",
					FamilyName: fmt.Sprint(i), Language: "fr", State: store.StateInvited}
				if err := tx.CreatePerson(ctx, &p); err != nil {
					return err
				}
				if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: s.ID}); err != nil {
					return err
				}
				if err := tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: svc.ID, Role: []string{"user", "admin"}[i%2]}); err != nil {
					return err
				}
				if _, err := jobs.Enqueue(ctx, tx, jobs.KindLDAPPerson, jobs.DedupeLDAPPerson(p.ID), jobs.PersonRef{PersonID: p.ID}); err != nil {
					return err
				}
			}
			_, err := jobs.Enqueue(ctx, tx, jobs.KindLDAPStructure, jobs.DedupeLDAPStructure(s.ID), jobs.StructureRef{StructureID: s.ID})
			return err
		})
		if err != nil {
			t.Fatalf("the import transaction failed with slapd down: %v", err)
		}

		ran, err := r.RunOnce(ctx)
		if err != nil || ran != n+1 {
			t.Fatalf("first run: %d jobs, %v", ran, err)
		}
		pending, err := st.ListJobs(ctx, store.JobFilter{State: store.JobPending, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != n+1 {
			t.Fatalf("%d jobs pending after a failed run, want %d", len(pending), n+1)
		}
		for _, j := range pending {
			if j.Attempts != 1 || !j.RunAfter.After(clock.Now()) || !strings.Contains(j.LastError, "unavailable") {
				t.Fatalf("job %d: attempts %d, run after %s (now %s), last error %q", j.ID, j.Attempts, j.RunAfter, clock.Now(), j.LastError)
			}
		}
		if ran, _ := r.RunOnce(ctx); ran != 0 {
			t.Fatalf("%d jobs ran before their backoff ended", ran)
		}

		e.slapd.Start()
		clock.Add(time.Minute)
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		counts, err := st.CountJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.JobDone] != n || counts[store.JobDead] != 1 || counts[store.JobPending] != 0 {
			pending, _ := st.ListJobs(ctx, store.JobFilter{State: store.JobPending})
			for _, j := range pending {
				t.Logf("pending job %d %s: %s", j.ID, j.Kind, j.LastError)
			}
			t.Fatalf("job states after slapd came back: %v", counts)
		}
		dead, _ := st.ListJobs(ctx, store.JobFilter{State: store.JobDead})
		if len(dead) != 1 || !strings.Contains(dead[0].LastError, "not created by sesame") {
			t.Fatalf("dead jobs: %+v", dead)
		}

		// Nothing missing, nothing twice; the only difference left is the
		// foreign entry, reported as a conflict.
		plan, err := e.syncer.DiffStore(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if c := plan.Counts(); len(plan.Changes) != 1 || c[OpConflict] != 1 {
			t.Fatalf("diff after the jobs ran:\n%s", plan)
		}
		if got := len(e.search(t, l.People(), "(objectClass=inetOrgPerson)", "1.1")); got != n {
			t.Fatalf("%d people entries, want %d", got, n)
		}
		if got := len(e.members(t, l.GroupDN("le-beta", "nextcloud", ""))); got != n {
			t.Fatalf("%d service group members, want %d (placeholder + %d)", got, n, n-1)
		}
		_ = structureID
	})
}
