package provision

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"sesame/internal/apps"
	"sesame/internal/jobs"
	"sesame/internal/manage"
	"sesame/internal/store"
)

// fakeNC is the smallest Nextcloud OCS API the connector's Remove calls:
// GET /ocs/v2.php/cloud/users/{id} and PUT .../{id}/disable.
type fakeNC struct {
	mu      sync.Mutex
	enabled map[string]bool
}

func (f *fakeNC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	const pfx = "/ocs/v2.php/cloud/users/"
	w.Header().Set("Content-Type", "application/json")
	ok := func(data any) {
		json.NewEncoder(w).Encode(map[string]any{"ocs": map[string]any{
			"meta": map[string]any{"status": "ok", "statuscode": 200}, "data": data}})
	}
	id := r.URL.Path[len(pfx):]
	switch {
	case r.Method == http.MethodPut && len(id) > 8 && id[len(id)-8:] == "/disable":
		f.enabled[id[:len(id)-8]] = false
		ok([]any{})
	case r.Method == http.MethodGet:
		en, found := f.enabled[id]
		if !found {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"ocs": map[string]any{
				"meta": map[string]any{"status": "failure", "statuscode": 404}, "data": []any{}}})
			return
		}
		ok(map[string]any{"id": id, "enabled": en, "backend": "user_oidc", "displayname": id})
	default:
		http.Error(w, "unexpected", http.StatusTeapot)
	}
}

// TestGoneAccountRemovedUnlessSomeoneElsesJobHasIt: a person deleted
// before the disable's job ran has their Nextcloud account disabled by the
// deletion's job, even when their username or email is someone's again —
// unless that someone's own job converges the account (same username, with
// a grant on the service). Nextcloud finds accounts by username only, so a
// new person with the same email and another username never touches it;
// one without a grant has no job at all. (Before, any person with the same
// username or email made the job skip: the account stayed enabled, its app
// passwords and sync clients working.)
func TestGoneAccountRemovedUnlessSomeoneElsesJobHasIt(t *testing.T) {
	for _, tc := range []struct {
		name, username, email string
		grant, wantEnabled    bool
	}{
		{"nobody again", "", "", false, false},
		{"same email, other username", "alice.martin", "alice@le-beta.org", false, false},
		{"same email, other username, with a grant", "alice.martin", "alice@le-beta.org", true, false},
		{"same username, no grant on the service", "alice", "alice.new@ailleurs.org", false, false},
		{"same username, with a grant: theirs now", "alice", "alice.new@ailleurs.org", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := openStore(t)
			nc := &fakeNC{enabled: map[string]bool{"alice": true}}
			srv := httptest.NewServer(nc)
			t.Cleanup(srv.Close)
			svc := goneService(t, st, store.Service{Kind: store.KindNextcloud, Slug: "cloud", BaseURL: srv.URL, DefaultRole: "user"},
				map[string]string{"provider_id": "1"})
			deletedBeforeItsJobs(t, st, svc, store.Person{Username: "alice", Email: "alice@le-beta.org"}, "user", "alice")
			// Someone else now, with the username or the email, with or
			// without a grant.
			if tc.username != "" {
				other := store.Person{Username: tc.username, Email: tc.email, State: store.StateInvited}
				if err := st.CreatePerson(ctx, &other); err != nil {
					t.Fatal(err)
				}
				if tc.grant { // as an import does
					if err := st.PutGrant(ctx, store.Grant{PersonID: other.ID, ServiceID: svc.ID, Role: "user"}); err != nil {
						t.Fatal(err)
					}
				}
			}
			runProvisionJobs(t, st)
			if nc.enabled["alice"] != tc.wantEnabled {
				t.Fatalf("the Nextcloud account %q: enabled %v, want %v", "alice", nc.enabled["alice"], tc.wantEnabled)
			}
		})
	}
}

// TestGonePahekoMemberNeedsAHand: a Paheko member of a person deleted
// before the disable's job ran. Paheko's API cannot move a member to
// another category, so the deletion's job changes nothing there and writes
// the step left to a person, with the member's name and number, to the
// audit log (the person's provisioning record, where a disable's shows,
// went with them).
func TestGonePahekoMemberNeedsAHand(t *testing.T) {
	st := openStore(t)
	var writes []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/user/7" {
			writes = append(writes, r.Method+" "+r.URL.Path)
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": 7, "id_category": 1, "numero": 12,
			"nom": "Alice Martin", "email": "alice@le-beta.org"})
	}))
	t.Cleanup(srv.Close)
	svc := goneService(t, st, store.Service{Kind: store.KindPaheko, Slug: "compta", BaseURL: srv.URL, DefaultRole: "Membre",
		Roles: []string{"Membre"}, RoleMapping: map[string]string{"Membre": "1"}}, map[string]string{"categories": "1"})
	alice := deletedBeforeItsJobs(t, st, svc, store.Person{Username: "alice", Email: "alice@le-beta.org"}, "Membre", "7")
	runProvisionJobs(t, st)
	if len(writes) != 0 {
		t.Errorf("requests Paheko was not to get: %q", writes)
	}
	es, _ := st.ListAudit(context.Background(), store.AuditFilter{Target: "person:" + alice.ID, Action: "provision.manual-action-needed"})
	if len(es) != 1 {
		t.Fatalf("audit entries of the step left to a person: %+v", es)
	}
	if todo, _ := es[0].Details["manual"].(string); !strings.Contains(todo, "Alice Martin") || !strings.Contains(todo, "12") ||
		!strings.Contains(todo, "Anciens membres") {
		t.Errorf("the step written: %q", todo)
	}
}

// goneService creates a structure and svc in it (kind, slug, URL and roles
// set by the caller) with provisioning credentials carrying settings.
func goneService(t *testing.T, st store.Store, svc store.Service, settings map[string]string) store.Service {
	t.Helper()
	ctx := context.Background()
	s := store.Structure{Slug: "le-beta", Name: "Le Bêta"}
	if err := st.CreateStructure(ctx, &s); err != nil {
		t.Fatal(err)
	}
	svc.StructureID, svc.Name = s.ID, svc.Slug
	svc.ClientID, svc.SigningAlg, svc.AuthMethod = "le-beta."+svc.Slug, "RS256", "client_secret_post"
	if err := st.CreateService(ctx, &svc); err != nil {
		t.Fatal(err)
	}
	box, _ := Box(master)
	sealed, err := Seal(box, svc, Secret{Credentials: apps.Credentials{Username: "api", Password: "pw"}, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	svc, err = st.UpdateService(ctx, svc.ID, func(x *store.Service) error { x.ProvisioningSecret = sealed; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// deletedBeforeItsJobs creates an active person with a role on svc and an
// account sesame made there (remoteID), then disables and deletes them
// before any job runs, and returns them.
func deletedBeforeItsJobs(t *testing.T, st store.Store, svc store.Service, p store.Person, role, remoteID string) store.Person {
	t.Helper()
	ctx := context.Background()
	p.State, p.PasswordHash = store.StateActive, "x"
	if err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreatePerson(ctx, &p); err != nil {
			return err
		}
		if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: svc.StructureID}); err != nil {
			return err
		}
		if err := tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: svc.ID, Role: role}); err != nil {
			return err
		}
		return tx.PutProvision(ctx, store.Provision{PersonID: p.ID, ServiceID: svc.ID, Status: store.ProvisionDone,
			RemoteID: remoteID, Owned: true, Role: role})
	}); err != nil {
		t.Fatal(err)
	}
	m := &manage.Manager{Store: st}
	if _, err := m.Disable(ctx, "test", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Delete(ctx, "test", p.ID); err != nil {
		t.Fatal(err)
	}
	return p
}

// runProvisionJobs runs every pending provisioning job once, in order.
func runProvisionJobs(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	p, err := New(st, master, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	js, err := st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindProvisionAccount, State: store.JobPending})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		if err := p.HandleAccount(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
}
