package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
)

// A referent may not touch a hoster admin from the person page (403); the
// import must not let them do it either: linking the admin (who belongs to
// no structure) and importing again rewrites the admin's names, language
// and quota, which the directory and the applications then carry.
func TestReferentImportCannotRewriteAHosterAdmin(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref, _ := e.referentOf("alpha")
	root := e.person("root", store.StateActive, true)

	change := url.Values{"given_name": {"Pwned"}, "family_name": {"X"}, "display_name": {"Pwned"}, "email": {root.Email}}
	// Linking the admin (allowed by design: Authorize keeps them from the referent).
	id := e.uploadCSV("alpha", &ref, "email;prénom;nom\nroot@example.org;R;Oot\n")
	if status, _, _ := e.do("POST", "/admin/structures/alpha/import/"+id+"/confirm", &ref, url.Values{}); status >= 400 {
		t.Fatalf("confirm link: %d", status)
	}
	if status, _, _ := e.do("POST", "/admin/structures/alpha/people/"+root.ID, &ref, change); status != http.StatusForbidden {
		t.Fatalf("the person page let the referent change a hoster admin: %d", status)
	}
	// The same change through a second import.
	id = e.uploadCSV("alpha", &ref, "email;prénom;nom;nom complet;langue\nroot@example.org;Pwned;X;Pwned;en\n")
	if status, _, _ := e.do("POST", "/admin/structures/alpha/import/"+id+"/confirm", &ref, url.Values{}); status >= 400 {
		t.Fatalf("confirm: %d", status)
	}
	got, err := e.st.GetPerson(ctx, root.ID)
	e.must(err)
	if got.GivenName != root.GivenName || got.FamilyName != root.FamilyName || got.DisplayName != root.DisplayName || got.Language != root.Language {
		t.Errorf("a referent's import rewrote a hoster admin: given %q family %q display %q language %q",
			got.GivenName, got.FamilyName, got.DisplayName, got.Language)
	}
}

// Nobody sets their own rights from the administration ("one's own
// rights are set by another referent or the hoster"): the person page
// refuses it (403). A referent's import must refuse it too.
func TestReferentImportCannotSetOwnRights(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref, s := e.referentOf("alpha")
	cloud := e.service(s, "cloud", "Nuage")
	if status, _, _ := e.do("POST", "/admin/structures/alpha/people/"+ref.ID+"/rights", &ref,
		url.Values{"role." + cloud.ID: {"admin"}}); status != http.StatusForbidden {
		t.Fatalf("the person page let the referent set their own rights: %d", status)
	}
	id := e.uploadCSV("alpha", &ref, "email;prénom;nom;droits\nref@example.org;ref;;cloud:admin\n")
	if status, _, _ := e.do("POST", "/admin/structures/alpha/import/"+id+"/confirm", &ref, url.Values{"skip_invalid": {"1"}}); status >= 400 {
		t.Fatalf("confirm: %d", status)
	}
	if g, _ := e.st.ListGrants(ctx, store.GrantFilter{PersonID: ref.ID}); len(g) != 0 {
		t.Errorf("a referent's import gave the referent their own rights: %+v", g)
	}
}

// A failed job of structure B about a person A shares (here B's email
// telling them of B's services) is B's: A's referent neither sees it on
// A's failed jobs page nor retries it.
func TestJobsOfAnotherStructureStayHidden(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref, a := e.referentOf("alpha")
	_ = a
	b := e.structure("beta")
	p := e.person("shared", store.StateActive, false)
	e.member(p, a, false)
	e.member(p, b, false)
	j := store.Job{Kind: "mail.access", Payload: []byte(`{"person_id":"` + p.ID + `","structure_id":"` + b.ID + `","service_ids":[]}`)}
	_, err := e.st.EnqueueJob(ctx, &j)
	e.must(err)
	claimed, err := e.st.ClaimJobs(ctx, store.ClaimRequest{Kinds: []string{"mail.access"}, Limit: 10, Lease: time.Minute})
	e.must(err)
	for _, c := range claimed {
		e.must(e.st.BuryJob(ctx, c.ID, c.LeaseID, "smtp: 550 beta-secret.example mailbox unavailable"))
	}
	if _, _, body := e.do("GET", "/admin/structures/alpha/jobs", &ref, nil); strings.Contains(body, "beta-secret") {
		t.Errorf("alpha's referent sees beta's failed job")
	}
	if status, _, _ := e.do("POST", fmt.Sprintf("/admin/structures/alpha/jobs/%d/retry", j.ID), &ref, url.Values{}); status != http.StatusNotFound {
		t.Errorf("alpha's referent retried beta's job: %d", status)
	}
}
