package onboarding

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// provisionJobs lists the pending provisioning jobs as "email/service".
func provisionJobs(t *testing.T, st store.Store, f *fixture) []string {
	t.Helper()
	ctx := context.Background()
	js, err := st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindProvisionAccount, State: store.JobPending, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, j := range js {
		var ref jobs.ProvisionRef
		if err := json.Unmarshal(j.Payload, &ref); err != nil {
			t.Fatal(err)
		}
		p, err := st.GetPerson(ctx, ref.PersonID)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := st.GetService(ctx, ref.ServiceID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Email+"/"+svc.Slug)
	}
	slices.Sort(out)
	return out
}

// TestImportQueuesProvisioning: an applied import queues one provisioning
// job per changed person and provisioned service they hold, lose or had an
// account on; services without credentials get none; a re-import of the
// same file queues nothing, and a sync that disables a person queues the
// removal of their accounts everywhere.
func TestImportQueuesProvisioning(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		a := newFixture(t, st, c, "alpha")
		b := newFixture(t, st, c, "beta")
		// Only the WordPress sites have credentials.
		for _, f := range []*fixture{a, b} {
			svc, err := st.UpdateService(ctx, f.services["site"].ID, func(s *store.Service) error {
				s.ProvisioningSecret = []byte("sealed")
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			f.services["site"] = svc
			f.im.Store = st
		}
		a.importFile(t, "email;nom;droits\nann@example.org;Ann;site:éditeur, nextcloud\nbob@example.org;Bob;nextcloud\n", nil)
		if got, want := provisionJobs(t, st, a), []string{"ann@example.org/site"}; !slices.Equal(got, want) {
			t.Fatalf("after the first import: %v, want %v", got, want)
		}
		rec, err := st.GetProvision(ctx, person(t, st, "ann@example.org").ID, a.services["site"].ID)
		if err != nil || rec.Status != store.ProvisionPending {
			t.Fatalf("ann's provision = %+v, %v", rec, err)
		}
		// The jobs ran; the same file again changes nothing and queues nothing.
		clearJobs(t, st)
		a.importFile(t, "email;nom;droits\nann@example.org;Ann;site:éditeur, nextcloud\nbob@example.org;Bob;nextcloud\n", nil)
		if got := provisionJobs(t, st, a); len(got) != 0 {
			t.Fatalf("a re-import queued %v", got)
		}
		// Ann is in beta's site too; bob gains alpha's site.
		b.importFile(t, "email;nom;droits\nann@example.org;Ann;site\n", nil)
		clearJobs(t, st)
		a.importFile(t, "email;nom;droits\nann@example.org;Ann;nextcloud\nbob@example.org;Bob;site\n", nil)
		if got, want := provisionJobs(t, st, a), []string{"ann@example.org/site", "bob@example.org/site"}; !slices.Equal(got, want) {
			t.Fatalf("after rights changed: %v, want %v", got, want)
		}
		clearJobs(t, st)
		// A sync without bob disables him (no other structure): his site account goes.
		a.importFile(t, "email;nom;droits\nann@example.org;Ann;nextcloud\n", func(r *Request) { r.Mode = store.ModeSync })
		if got, want := provisionJobs(t, st, a), []string{"bob@example.org/site"}; !slices.Equal(got, want) {
			t.Fatalf("after the sync: %v, want %v", got, want)
		}
	})
}

// clearJobs marks every pending job done, as a runner would.
func clearJobs(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	for {
		js, err := st.ClaimJobs(ctx, store.ClaimRequest{Limit: 100, Lease: 60e9})
		if err != nil {
			t.Fatal(err)
		}
		if len(js) == 0 {
			return
		}
		for _, j := range js {
			if err := st.CompleteJob(ctx, j.ID, j.LeaseID); err != nil {
				t.Fatal(err)
			}
		}
	}
}
