package provision

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/apps"
	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
)

var master = bytes.Repeat([]byte{42}, 32)

// gate is a reverse proxy in front of an application that counts the
// requests it passes and can play dead (502, as a proxy in front of a
// stopped application answers).
type gate struct {
	srv    *httptest.Server
	down   atomic.Bool
	mu     sync.Mutex
	counts map[string]int // "METHOD" -> requests passed
	posts  map[string]int // "create": creations WordPress answered 201 to
}

func newGate(t *testing.T, target string) *gate {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{counts: map[string]int{}, posts: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Query().Get("rest_route"), "/wp/v2/users") &&
			resp.StatusCode == http.StatusCreated {
			g.mu.Lock()
			g.posts["create"]++
			g.mu.Unlock()
		}
		return nil
	}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.down.Load() {
			http.Error(w, "Bad Gateway", http.StatusBadGateway)
			return
		}
		g.mu.Lock()
		g.counts[r.Method]++
		g.mu.Unlock()
		r.Host = u.Host // WordPress answers for its own address only
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gate) writes() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.counts[http.MethodPost] + g.counts[http.MethodPut] + g.counts[http.MethodDelete]
}

func (g *gate) creates() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.posts["create"]
}

// wpEnv is a store with one structure whose WordPress service (reached
// through a gate) has provisioning credentials, and a runner.
type wpEnv struct {
	t      *testing.T
	ctx    context.Context
	st     store.Store
	site   *testenv.WordPressSite
	gate   *gate
	svc    store.Service
	runner *jobs.Runner
}

func newWPEnv(t *testing.T) *wpEnv {
	t.Helper()
	site := testenv.WordPress(t)
	ctx := context.Background()
	st := openStore(t)
	g := newGate(t, site.URL)
	e := &wpEnv{t: t, ctx: ctx, st: st, site: site, gate: g}
	s := store.Structure{Slug: "le-beta", Name: "Le Bêta"}
	if err := st.CreateStructure(ctx, &s); err != nil {
		t.Fatal(err)
	}
	e.svc = store.Service{StructureID: s.ID, Kind: store.KindWordPress, Slug: "site", Name: "Site", BaseURL: g.srv.URL,
		DefaultRole: "subscriber", ClientID: "le-beta.site", SigningAlg: "RS256", AuthMethod: "client_secret_post"}
	if err := st.CreateService(ctx, &e.svc); err != nil {
		t.Fatal(err)
	}
	box, _ := Box(master)
	sealed, err := Seal(box, e.svc, Secret{Credentials: apps.Credentials{Username: site.Admin, Password: site.AppPassword}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = st.UpdateService(ctx, e.svc.ID, func(s *store.Service) error { s.ProvisioningSecret = sealed; return nil })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	p, err := New(st, master, Config{Timeout: 10 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	e.runner = jobs.NewRunner(st, jobs.Config{Workers: 4, PollInterval: 20 * time.Millisecond,
		BackoffBase: 50 * time.Millisecond, BackoffMax: 300 * time.Millisecond, MaxAttempts: 100}, log)
	p.Register(e.runner)
	return e
}

// openStore opens a migrated SQLite store in the test's folder.
func openStore(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sesame.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// person creates a person with a grant (role "" means none) and queues
// their provisioning, as an import does, in one transaction.
func (e *wpEnv) person(username, email, role string) store.Person {
	e.t.Helper()
	p := store.Person{Username: username, Email: email, GivenName: "Élodie", FamilyName: "Lefèvre", Language: "fr",
		State: store.StateInvited}
	err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreatePerson(ctx, &p); err != nil {
			return err
		}
		if role != "" {
			if err := tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: e.svc.ID, Role: role}); err != nil {
				return err
			}
		}
		return jobs.QueueProvision(ctx, tx, p.ID, e.svc)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// change runs fn and queues the person's provisioning in one transaction.
func (e *wpEnv) change(p store.Person, fn func(ctx context.Context, tx store.Tx) error) {
	e.t.Helper()
	err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return jobs.QueueProvision(ctx, tx, p.ID, e.svc)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// drain runs the jobs until none is pending or running. It fails when
// the queue has not shrunk for stall (a stuck job, not a slow machine: a
// loaded CI machine runs WordPress several times slower than a quiet one),
// saying what the pending jobs last failed with.
func (e *wpEnv) drain(stall time.Duration) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.runner.Run(ctx) }()
	defer func() { cancel(); <-done }()
	left, moved := -1, time.Now()
	for time.Since(moved) < stall {
		n, err := e.st.CountJobs(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		now := n[store.JobPending] + n[store.JobRunning]
		if now == 0 {
			return
		}
		if left < 0 || now < left {
			left, moved = now, time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	pend, _ := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobPending, Limit: 3})
	var last []string
	for _, j := range pend {
		last = append(last, fmt.Sprintf("%s attempt %d: %s", j.Kind, j.Attempts, j.LastError))
	}
	e.t.Fatalf("%d jobs still pending or running, none finished in %s; last errors: %q", left, stall, last)
}

// roles reads a WordPress user's roles by email, straight from WordPress.
func (e *wpEnv) roles(email string) string {
	e.t.Helper()
	return strings.TrimSpace(e.site.PHP(fmt.Sprintf(`$u = get_user_by('email', %q); echo $u ? implode(',', $u->roles) : 'none';`, email)))
}

func (e *wpEnv) provision(p store.Person) store.Provision {
	e.t.Helper()
	rec, err := e.st.GetProvision(e.ctx, p.ID, e.svc.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

// TestWordPressLifecycle provisions one person into a real WordPress
// through the job: created with the granted role, role changed on a new
// grant, nothing written when nothing changed, every role removed when the
// grant ends (the account stays); an administrator made at install time is
// linked by email and never touched.
func TestWordPressLifecycle(t *testing.T) {
	e := newWPEnv(t)
	alice := e.person("elodie.lefevre", "elodie@le-beta.org", "editor")
	e.drain(30 * time.Second)
	if got := e.roles("elodie@le-beta.org"); got != "editor" {
		t.Fatalf("roles after create = %q, want editor", got)
	}
	rec := e.provision(alice)
	if rec.Status != store.ProvisionDone || !rec.Owned || rec.RemoteID == "" || rec.Role != "editor" {
		t.Fatalf("provision after create = %+v", rec)
	}

	// Nothing changed: a new job reads, writes nothing.
	before := e.gate.writes()
	e.change(alice, func(context.Context, store.Tx) error { return nil })
	e.drain(30 * time.Second)
	if w := e.gate.writes(); w != before {
		t.Fatalf("%d writes for an unchanged person", w-before)
	}

	e.change(alice, func(ctx context.Context, tx store.Tx) error {
		return tx.PutGrant(ctx, store.Grant{PersonID: alice.ID, ServiceID: e.svc.ID, Role: "author"})
	})
	e.drain(30 * time.Second)
	if got := e.roles("elodie@le-beta.org"); got != "author" {
		t.Fatalf("roles after re-grant = %q, want author", got)
	}

	e.change(alice, func(ctx context.Context, tx store.Tx) error { return tx.DeleteGrant(ctx, alice.ID, e.svc.ID) })
	e.drain(30 * time.Second)
	if got := e.roles("elodie@le-beta.org"); got != "" {
		t.Fatalf("roles after the grant ended = %q, want none (account kept)", got)
	}
	if rec := e.provision(alice); rec.Status != store.ProvisionDone || rec.Role != "" {
		t.Fatalf("provision after removal = %+v", rec)
	}

	// The site's own administrator, granted as a subscriber: linked, untouched.
	admin := e.person("admin.site", e.site.AdminEmail, "subscriber")
	e.drain(30 * time.Second)
	if got := e.roles(e.site.AdminEmail); got != "administrator" {
		t.Fatalf("the install's administrator now has %q", got)
	}
	if rec := e.provision(admin); rec.Owned || rec.Message != "linked-unmanaged" || rec.Status != store.ProvisionDone {
		t.Fatalf("provision of the linked administrator = %+v", rec)
	}
	if n := e.site.UserCount(); n != 2 {
		t.Fatalf("%d WordPress users, want 2", n)
	}
}

// TestWordPressOutageConverges queues many people while WordPress answers
// 502: the jobs wait with backoff, and once it is back every person is
// created exactly once. 400 people keep four workers busy through the
// outage and the recovery; a thousand took 50 s on a quiet machine and more
// than five minutes on a loaded CI one, for no more coverage.
func TestWordPressOutageConverges(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 100
	}
	e := newWPEnv(t)
	e.gate.down.Store(true)
	err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			p := store.Person{Username: fmt.Sprintf("p%04d", i), Email: fmt.Sprintf("p%04d@le-beta.org", i),
				GivenName: "P", FamilyName: fmt.Sprint(i), Language: "fr", State: store.StateInvited}
			if err := tx.CreatePerson(ctx, &p); err != nil {
				return err
			}
			if err := tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: e.svc.ID, Role: "contributor"}); err != nil {
				return err
			}
			if err := jobs.QueueProvision(ctx, tx, p.ID, e.svc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.runner.Run(ctx) }()
	// Let every job fail at least once while the application is down.
	deadline := time.Now().Add(20 * time.Second)
	for {
		pend, _ := e.st.ListProvisions(e.ctx, store.ProvisionFilter{ServiceID: e.svc.ID, Status: store.ProvisionPending})
		withMsg := 0
		for _, p := range pend {
			if p.Message != "" {
				withMsg++
			}
		}
		if withMsg >= 50 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.gate.down.Store(false)
	cancel()
	<-done
	e.drain(time.Minute)
	if got := e.site.UserCount(); got != n+1 {
		t.Fatalf("%d WordPress users, want %d people + the administrator", got, n)
	}
	if c := e.gate.creates(); c != n {
		t.Fatalf("WordPress created %d users for %d people", c, n)
	}
	recs, _ := e.st.ListProvisions(e.ctx, store.ProvisionFilter{ServiceID: e.svc.ID})
	for _, r := range recs {
		if r.Status != store.ProvisionDone || !r.Owned || r.RemoteID == "" {
			t.Fatalf("provision %+v, want done and owned", r)
		}
	}
	dead, _ := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobDead})
	if len(dead) != 0 {
		t.Fatalf("%d dead jobs: %+v", len(dead), dead[0])
	}
}

// TestWordPressRefusedCredentials buries the job with WordPress's own
// message and marks the provision failed; the other person is not held up.
func TestWordPressRefusedCredentials(t *testing.T) {
	e := newWPEnv(t)
	box, _ := Box(master)
	sealed, _ := Seal(box, e.svc, Secret{Credentials: apps.Credentials{Username: e.site.Admin, Password: "wrong wrong wrong wrong"}})
	var err error
	e.svc, err = e.st.UpdateService(e.ctx, e.svc.ID, func(s *store.Service) error { s.ProvisioningSecret = sealed; return nil })
	if err != nil {
		t.Fatal(err)
	}
	p := e.person("jean.dupont", "jean@le-beta.org", "author")
	e.drain(30 * time.Second)
	rec := e.provision(p)
	if rec.Status != store.ProvisionFailed || !strings.Contains(rec.Message, "401") {
		t.Fatalf("provision = %+v, want failed with WordPress's 401", rec)
	}
	dead, _ := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobDead})
	if len(dead) != 1 || dead[0].Attempts != 1 {
		t.Fatalf("dead jobs = %+v, want one buried at its first attempt", dead)
	}
}
