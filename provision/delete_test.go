package provision

import (
	"encoding/json"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/manage"
	"sesame/internal/store"
)

// TestWordPressDeletedBeforeTheDisableRan disables and deletes people in a
// real WordPress's service before the disable's jobs ran (an application
// down, a quick hand): once the person is gone from the store, the
// disable's job finds nobody, so the job queued with the deletion takes
// the access away. A person deleted, then imported anew under the same
// username and email before the jobs ran, keeps the access the new import
// gives: the account is theirs now.
func TestWordPressDeletedBeforeTheDisableRan(t *testing.T) {
	e := newWPEnv(t)
	alice := e.person("elodie.lefevre", "elodie@le-beta.org", "editor")
	bob := e.person("bruno.martin", "bruno@le-beta.org", "author")
	e.drain(30 * time.Second)
	if a, b := e.roles("elodie@le-beta.org"), e.roles("bruno@le-beta.org"); a != "editor" || b != "author" {
		t.Fatalf("roles after create: %q, %q", a, b)
	}

	// Only the applications here: no directory, no provider, no mail.
	e.st.SetDisabledJobSinks(jobs.SinkLDAP, jobs.SinkOIDC, jobs.SinkMail)
	m := &manage.Manager{Store: e.st}
	for _, p := range []store.Person{alice, bob} {
		if _, err := m.Disable(e.ctx, "test", p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Delete(e.ctx, "test", p.ID); err != nil {
			t.Fatal(err)
		}
	}
	// What the deletion's job carries: the account as sesame knew it.
	js, err := e.st.ListJobs(e.ctx, store.JobFilter{Kind: jobs.KindProvisionAccount, State: store.JobPending})
	if err != nil {
		t.Fatal(err)
	}
	gone := 0
	for _, j := range js {
		var ref jobs.ProvisionRef
		if err := json.Unmarshal(j.Payload, &ref); err != nil {
			t.Fatal(err)
		}
		if ref.Gone == nil {
			continue
		}
		gone++
		if ref.PersonID == alice.ID && (ref.Gone.Username != alice.Username || ref.Gone.Email != alice.Email ||
			ref.Gone.RemoteID == "" || !ref.Gone.Owned || ref.Gone.Role != "editor") {
			t.Errorf("the deletion's job: %s", j.Payload)
		}
	}
	if gone != 2 {
		t.Fatalf("%d deletion jobs for two people on one service, want 2", gone)
	}

	bob2 := e.person("bruno.martin", "bruno@le-beta.org", "author")
	e.drain(30 * time.Second)
	if got := e.roles("elodie@le-beta.org"); got != "" {
		t.Fatalf("the deleted person's account still has %q", got)
	}
	if got := e.roles("bruno@le-beta.org"); got != "author" {
		t.Fatalf("the account of the person imported anew has %q, want author", got)
	}
	if n := e.site.UserCount(); n != 3 {
		t.Fatalf("%d WordPress users, want 3 (accounts are kept, none made twice)", n)
	}
	es, _ := e.st.ListAudit(e.ctx, store.AuditFilter{Target: "person:" + alice.ID})
	removed := false
	for _, a := range es {
		removed = removed || (a.Actor == "provision" && a.Action == "provision.roles-removed")
	}
	if !removed {
		t.Errorf("no audit entry of the removal for the deleted person: %+v", es)
	}
	es, _ = e.st.ListAudit(e.ctx, store.AuditFilter{Target: "person:" + bob.ID})
	for _, a := range es {
		if a.Action != "provision.created" && a.Action != "person.disable" && a.Action != "person.delete" {
			t.Errorf("the first bruno's deletion touched the account now the new one's: %+v", a)
		}
	}
	if rec := e.provision(bob2); rec.Status != store.ProvisionDone || rec.RemoteID == "" {
		t.Errorf("provision of the person imported anew: %+v", rec)
	}
	dead, _ := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobDead})
	if len(dead) != 0 {
		t.Fatalf("%d dead jobs: %+v", len(dead), dead[0])
	}
}
