package provision

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// fakeWP is the smallest WordPress REST API (?rest_route=) the connector
// uses: create, search, get and update users. failCreate makes the next
// create write the user and then answer 502, as a proxy whose upstream
// timed out after WordPress committed does.
type fakeWP struct {
	mu         sync.Mutex
	users      map[int]*wpFakeUser
	next       int
	failCreate bool
}

type wpFakeUser struct {
	ID       int      `json:"id"`
	Username string   `json:"username"`
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
}

func (f *fakeWP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	route := r.URL.Query().Get("rest_route")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case route == "/wp/v2/users" && r.Method == http.MethodPost:
		var body struct {
			Username string   `json:"username"`
			Email    string   `json:"email"`
			Roles    []string `json:"roles"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		for _, u := range f.users {
			if strings.EqualFold(u.Email, body.Email) {
				w.WriteHeader(http.StatusInternalServerError)
				json.NewEncoder(w).Encode(map[string]any{"code": "existing_user_email", "message": "taken"})
				return
			}
		}
		f.next++
		u := &wpFakeUser{ID: f.next, Username: body.Username, Email: body.Email, Roles: body.Roles}
		f.users[u.ID] = u
		if f.failCreate {
			f.failCreate = false
			http.Error(w, "Bad Gateway", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(u)
	case route == "/wp/v2/users" && r.Method == http.MethodGet:
		term := strings.ToLower(r.URL.Query().Get("search"))
		list := []*wpFakeUser{}
		for _, u := range f.users {
			if strings.Contains(strings.ToLower(u.Email), term) || strings.Contains(strings.ToLower(u.Username), term) {
				list = append(list, u)
			}
		}
		w.Header().Set("X-WP-TotalPages", "1")
		json.NewEncoder(w).Encode(list)
	case strings.HasPrefix(route, "/wp/v2/users/"):
		id, _ := strconv.Atoi(strings.TrimPrefix(route, "/wp/v2/users/"))
		u := f.users[id]
		if u == nil {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"code": "rest_user_invalid_id"})
			return
		}
		if r.Method == http.MethodPost {
			var change map[string]json.RawMessage
			_ = json.NewDecoder(r.Body).Decode(&change)
			if raw, ok := change["roles"]; ok {
				u.Roles = nil
				_ = json.Unmarshal(raw, &u.Roles)
			}
		}
		json.NewEncoder(w).Encode(u)
	default:
		http.Error(w, "unexpected", http.StatusTeapot)
	}
}

func (f *fakeWP) roles(email string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if u.Email == email {
			return strings.Join(u.Roles, ",")
		}
	}
	return "none"
}

// TestGrantRemovedAfterAnUnclearCreateTakesTheRoleAway: WordPress created
// the account but the answer was lost (a 502 from the proxy in front of
// it): the connector says the account may exist (MayHaveCreated), and the
// job records it as sesame's, to be retried. The grant is then removed
// before the retry ran. The next job must take the role away from that
// account: WordPress's own "lost password" gives its owner the role
// whatever sesame's login gate says.
func TestGrantRemovedAfterAnUnclearCreateTakesTheRoleAway(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	wp := &fakeWP{users: map[int]*wpFakeUser{}, failCreate: true}
	srv := httptest.NewServer(wp)
	t.Cleanup(srv.Close)
	svc := goneService(t, st, store.Service{Kind: store.KindWordPress, Slug: "site", BaseURL: srv.URL, DefaultRole: "subscriber"}, nil)

	p := store.Person{Username: "elodie.lefevre", Email: "elodie@le-beta.org", GivenName: "Élodie", FamilyName: "Lefèvre",
		State: store.StateActive, PasswordHash: "x"}
	prov, job := grantedJob(t, st, &p, svc, "administrator")

	// First run: WordPress made the account, sesame got a 502.
	if err := prov.HandleAccount(ctx, job); err == nil || jobs.IsPermanent(err) {
		t.Fatalf("first run: %v, want a retryable failure", err)
	}
	if got := wp.roles(p.Email); got != "administrator" {
		t.Fatalf("WordPress after the unclear create: %q", got)
	}

	// The grant ends before the retry (a referent's re-import, a hoster's
	// command): the same job, or the one the removal queues, runs next.
	if err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.DeleteGrant(ctx, p.ID, svc.ID); err != nil {
			return err
		}
		return jobs.QueueProvision(ctx, tx, p.ID, svc)
	}); err != nil {
		t.Fatal(err)
	}
	if err := prov.HandleAccount(ctx, job); err != nil {
		t.Fatalf("run after the grant ended: %v", err)
	}
	if got := wp.roles(p.Email); got != "" {
		rec, _ := st.GetProvision(ctx, p.ID, svc.ID)
		t.Fatalf("the account of a person without a grant still has role %q in WordPress (record %+v)", got, rec)
	}
}

// fakeNCCreate is a Nextcloud whose user_oidc pre-provisioning creates the
// user, and whose group endpoint answers 503 the first time.
type fakeNCCreate struct {
	mu        sync.Mutex
	users     map[string]bool // id -> enabled
	groupsBad bool
}

func (f *fakeNCCreate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	ok := func(data any) {
		json.NewEncoder(w).Encode(map[string]any{"ocs": map[string]any{
			"meta": map[string]any{"status": "ok", "statuscode": 200}, "data": data}})
	}
	const users = "/ocs/v2.php/cloud/users/"
	switch p := r.URL.Path; {
	case p == "/ocs/v2.php/apps/user_oidc/api/v1/user" && r.Method == http.MethodPost:
		var body struct {
			UserID string `json:"userId"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.users[body.UserID] = true
		ok(map[string]any{"user_id": body.UserID})
	case strings.HasSuffix(p, "/groups") && r.Method == http.MethodPost && f.groupsBad:
		f.groupsBad = false
		http.Error(w, "busy", http.StatusServiceUnavailable)
	case strings.HasSuffix(p, "/groups") && r.Method == http.MethodPost:
		ok([]any{})
	case strings.HasSuffix(p, "/disable") && r.Method == http.MethodPut:
		f.users[strings.TrimSuffix(strings.TrimPrefix(p, users), "/disable")] = false
		ok([]any{})
	case strings.HasPrefix(p, users) && r.Method == http.MethodGet:
		id := strings.TrimPrefix(p, users)
		en, found := f.users[id]
		if !found {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"ocs": map[string]any{
				"meta": map[string]any{"status": "failure", "statuscode": 404}, "data": []any{}}})
			return
		}
		ok(map[string]any{"id": id, "enabled": en, "backend": "user_oidc", "displayname": id, "groups": []string{}})
	default:
		http.Error(w, "unexpected", http.StatusTeapot)
	}
}

// TestGrantRemovedAfterAHalfDoneNextcloudCreateDisablesTheUser: the
// pre-provisioning made the user, then adding it to the admin group failed
// (503, retried later): the job failed with no account recorded. The
// grant ends before the retry: the next job must disable the user that
// the half-done create left enabled.
func TestGrantRemovedAfterAHalfDoneNextcloudCreateDisablesTheUser(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	nc := &fakeNCCreate{users: map[string]bool{}, groupsBad: true}
	srv := httptest.NewServer(nc)
	t.Cleanup(srv.Close)
	svc := goneService(t, st, store.Service{Kind: store.KindNextcloud, Slug: "cloud", BaseURL: srv.URL, DefaultRole: "user"},
		map[string]string{"provider_id": "1"})
	p := store.Person{Username: "paul", Email: "paul@le-beta.org", State: store.StateActive, PasswordHash: "x"}
	prov, job := grantedJob(t, st, &p, svc, "admin")
	if err := prov.HandleAccount(ctx, job); err == nil || jobs.IsPermanent(err) {
		t.Fatalf("first run: %v, want a retryable failure", err)
	}
	if !nc.users["paul"] {
		t.Fatal("the pre-provisioning did not make the user")
	}
	if err := st.DeleteGrant(ctx, p.ID, svc.ID); err != nil {
		t.Fatal(err)
	}
	if err := prov.HandleAccount(ctx, job); err != nil {
		t.Fatal(err)
	}
	if nc.users["paul"] {
		rec, _ := st.GetProvision(ctx, p.ID, svc.ID)
		t.Fatalf("the Nextcloud user of a person without a grant is still enabled (record %+v)", rec)
	}
}

// grantedJob stores p as a member of svc's structure with role on svc, and
// returns a provisioner and the person's provisioning job for svc.
func grantedJob(t *testing.T, st store.Store, p *store.Person, svc store.Service, role string) (*Provisioner, store.Job) {
	t.Helper()
	ctx := context.Background()
	if err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreatePerson(ctx, p); err != nil {
			return err
		}
		if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: svc.StructureID}); err != nil {
			return err
		}
		return tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: svc.ID, Role: role})
	}); err != nil {
		t.Fatal(err)
	}
	prov, err := New(st, master, Config{Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(jobs.ProvisionRef{PersonID: p.ID, ServiceID: svc.ID})
	return prov, store.Job{Kind: jobs.KindProvisionAccount, Payload: payload}
}
