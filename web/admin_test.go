package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/idp"
	"sesame/internal/manage"
	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
	"sesame/onboarding"
	"sesame/web"
)

// testCookie holds a person id: fakeSessions' stand-in for the provider's
// SSO session.
const testCookie = "test_sso"

// fakeSessions is web.SignedIn over a cookie that names the person, and
// records the sessions it was asked to end.
type fakeSessions struct {
	st           store.Store
	mu           sync.Mutex
	calls        []string
	passwordOnly bool
	authAt       time.Time
}

func (f *fakeSessions) CurrentPerson(r *http.Request) (store.Person, error) {
	c, err := r.Cookie(testCookie)
	if err != nil || c.Value == "" {
		return store.Person{}, store.ErrNotFound
	}
	p, err := f.st.GetPerson(r.Context(), c.Value)
	if err != nil {
		return p, err
	}
	if p.State != store.StateActive {
		return store.Person{}, store.ErrNotFound
	}
	return p, nil
}

func (f *fakeSessions) SignInPath() string { return "/signin" }

// SessionAuth is a two-factor session's unless passwordOnly is set,
// signed in at authAt (now when zero).
func (f *fakeSessions) SessionAuth(r *http.Request) web.SessionAuth {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := f.authAt
	if at.IsZero() {
		at = time.Now()
	}
	if f.passwordOnly {
		return web.SessionAuth{AMR: []string{"pwd"}, Time: at}
	}
	return web.SessionAuth{AMR: []string{"pwd", "otp", "mfa"}, Time: at}
}

func (f *fakeSessions) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeSessions) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeSessions) SignOut(w http.ResponseWriter, r *http.Request) error {
	f.record("signout")
	http.SetCookie(w, &http.Cookie{Name: testCookie, Value: "", Path: "/", MaxAge: -1})
	return nil
}

func (f *fakeSessions) SignOutEverywhere(w http.ResponseWriter, r *http.Request, personID string) error {
	f.record("everywhere:" + personID)
	http.SetCookie(w, &http.Cookie{Name: testCookie, Value: "", Path: "/", MaxAge: -1})
	return nil
}

func (f *fakeSessions) EndOtherSessions(_ context.Context, _ *http.Request, personID string) error {
	f.record("others:" + personID)
	return nil
}

// adminEnv is the portal, the administration pages and the account pages
// over a fresh store.
type adminEnv struct {
	t        *testing.T
	st       store.Store
	sessions *fakeSessions
	hasher   *password.Hasher
	logins   *web.RateLimiter // the login limiter the portal's password form spends
	srv      *httptest.Server
	n        int
}

func newAdminEnv(t *testing.T, backend string) *adminEnv {
	t.Helper()
	ctx := context.Background()
	var db interface {
		store.Store
		Migrate(context.Context) error
	}
	if backend == "postgres" {
		pg, err := postgres.Open(ctx, testenv.Postgres(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		db = pg
	} else {
		lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sesame.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		db = lite
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := &adminEnv{t: t, st: db, sessions: &fakeSessions{st: db}, hasher: password.NewHasher(fastParams, 4),
		logins: web.NewRateLimiter(10, time.Minute, nil)}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	rd, err := web.NewRenderer(nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	tokens := &onboarding.Tokens{Key: []byte("0123456789abcdef0123456789abcdef-test-key")}
	mux := http.NewServeMux()
	portal := &web.Portal{Store: db, Renderer: rd, Sessions: e.sessions, Hasher: e.hasher, Policy: password.DefaultPolicy(),
		PublicURL: "https://sesame.example", Logger: logger, IPLimit: web.NewRateLimiter(100000, time.Millisecond, nil),
		PasswordLimit: e.logins, MFA: testMFASecrets(t)}
	portal.Mount(mux)
	(&web.Admin{Store: db, Renderer: rd, Sessions: e.sessions, PublicURL: "https://sesame.example", Logger: logger,
		Manager: &manage.Manager{Store: db, Links: tokens, ClientSecretHash: idp.HashClientSecret}, IPLimit: web.NewRateLimiter(100000, time.Millisecond, nil),
		LookupHost: testLookupHost,
		Imports: &web.ImportPages{Store: db, Importer: &onboarding.Importer{Store: db, Tokens: tokens, Logger: logger},
			Renderer: rd, Logger: logger, MaxPending: 1000, MaxPendingPerKey: 1000}}).Mount(mux)
	(&web.Account{Store: db, Tokens: tokens, Hasher: e.hasher, Policy: password.DefaultPolicy(), Renderer: rd,
		PublicURL: "https://sesame.example", Logger: logger, Home: portal.Home()}).Mount(mux)
	web.StaticHandler{}.Mount(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *adminEnv) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// person creates a person; active ones get the password "pw of USERNAME".
func (e *adminEnv) person(username string, state store.PersonState, admin bool) store.Person {
	e.t.Helper()
	p := store.Person{Username: username, Email: username + "@example.org", GivenName: username, Language: "fr",
		State: state, Admin: admin}
	if state == store.StateActive {
		h, err := e.hasher.Hash(context.Background(), "pw of "+username)
		e.must(err)
		p.PasswordHash = h
	}
	e.must(e.st.CreatePerson(context.Background(), &p))
	return p
}

// referentOf makes a structure and its referent, "ref".
func (e *adminEnv) referentOf(slug string) (store.Person, store.Structure) {
	e.t.Helper()
	ref, s := e.person("ref", store.StateActive, false), e.structure(slug)
	e.member(ref, s, true)
	return ref, s
}

func (e *adminEnv) structure(slug string) store.Structure {
	e.t.Helper()
	s := store.Structure{Slug: slug, Name: "Structure " + slug, Contact: "bureau@" + slug + ".example"}
	e.must(e.st.CreateStructure(context.Background(), &s))
	return s
}

func (e *adminEnv) service(s store.Structure, slug, name string) store.Service {
	e.t.Helper()
	svc := store.Service{StructureID: s.ID, Kind: store.KindNextcloud, Slug: slug, Name: name,
		BaseURL: "https://" + slug + "." + s.Slug + ".example", ClientID: s.Slug + "-" + slug}
	e.must(e.st.CreateService(context.Background(), &svc))
	return svc
}

func (e *adminEnv) member(p store.Person, s store.Structure, referent bool) {
	e.t.Helper()
	e.must(e.st.PutMembership(context.Background(), store.Membership{PersonID: p.ID, StructureID: s.ID, Referent: referent}))
}

// deadJob makes a failed ldap.person job about p (and buries every other
// pending one of its kind on the way).
func (e *adminEnv) deadJob(p store.Person) store.Job {
	e.t.Helper()
	ctx := context.Background()
	j := store.Job{Kind: "ldap.person", Payload: []byte(`{"person_id":"` + p.ID + `"}`)}
	_, err := e.st.EnqueueJob(ctx, &j)
	e.must(err)
	claimed, err := e.st.ClaimJobs(ctx, store.ClaimRequest{Kinds: []string{"ldap.person"}, Limit: 1000, Lease: time.Minute})
	e.must(err)
	for _, c := range claimed {
		e.must(e.st.BuryJob(ctx, c.ID, c.LeaseID, "directory refused: no such object"))
	}
	return j
}

// do sends a request as person (nil: nobody), a POST from sesame's own
// pages, and returns the status, the Location and the body.
func (e *adminEnv) do(method, path string, as *store.Person, form url.Values) (int, string, string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	e.must(err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if as != nil {
		req.AddCookie(&http.Cookie{Name: testCookie, Value: as.ID})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	e.must(err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// upload sends a small spreadsheet to a structure's import as person and
// returns the id of its preview.
func (e *adminEnv) upload(slug string, as *store.Person) string {
	e.t.Helper()
	return e.uploadCSV(slug, as, "email;prénom;nom\nnew@example.org;Nina;Neuve\n")
}

// uploadCSV sends csv to a structure's import ("add" mode) as person and
// returns the id of its preview.
func (e *adminEnv) uploadCSV(slug string, as *store.Person, csv string) string {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("mode", "add")
	fw, err := mw.CreateFormFile("file", "personnes.csv")
	e.must(err)
	_, _ = fw.Write([]byte(csv))
	e.must(mw.Close())
	req, err := http.NewRequest("POST", e.srv.URL+"/admin/structures/"+slug+"/import", &body)
	e.must(err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: testCookie, Value: as.ID})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	e.must(err)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/structures/"+slug+"/import/") {
		e.t.Fatalf("upload as %s: %d %q", as.Username, resp.StatusCode, loc)
	}
	return strings.TrimPrefix(loc, "/admin/structures/"+slug+"/import/")
}

// The outcomes of the authorization matrix.
const (
	allow  = "allowed"
	forbid = "403"
	hidden = "404"
	signin = "sign-in"
)

// roles of the matrix, in its columns' order.
var roles = []string{"hoster admin", "referent of this structure", "referent of another", "member", "anonymous"}

// expectations says, per action, what each role gets. A route whose
// action is missing here fails TestAuthorizationMatrix: add its rule here
// when adding an action.
var expectations = map[web.Action][5]string{
	web.ActListStructures:  {allow, allow, allow, forbid, signin},
	web.ActCreateStructure: {allow, forbid, forbid, forbid, signin},
	web.ActRemoveStructure: {allow, forbid, forbid, forbid, signin},
	web.ActViewStructure:   {allow, allow, hidden, forbid, signin},
	web.ActUpdateStructure: {allow, allow, hidden, forbid, signin},
	web.ActManagePeople:    {allow, allow, hidden, forbid, signin},
	web.ActViewPerson:      {allow, allow, hidden, forbid, signin},
	web.ActManagePerson:    {allow, allow, hidden, forbid, signin},
	web.ActManageService:   {allow, allow, hidden, forbid, signin},
	web.ActRetryJob:        {allow, allow, hidden, forbid, signin},
	web.ActImport:          {allow, allow, hidden, forbid, signin},
}

func outcome(status int, location string) string {
	switch {
	case status == http.StatusSeeOther && strings.HasPrefix(location, "/signin?next="):
		return signin
	case status == http.StatusForbidden:
		return forbid
	case status == http.StatusNotFound:
		return hidden
	case status < 300, status == http.StatusSeeOther, status == http.StatusBadRequest,
		status == http.StatusConflict, status == http.StatusUnprocessableEntity:
		return allow
	}
	return fmt.Sprintf("status %d", status)
}

// TestAuthorizationMatrix runs every route of web.AdminRoutes as each
// role, each time on a structure, person, service and failed job of its
// own, on both backends.
func TestAuthorizationMatrix(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) { testAuthorizationMatrix(t, backend) })
	}
}

func testAuthorizationMatrix(t *testing.T, backend string) {
	e := newAdminEnv(t, backend)
	admin := e.person("root", store.StateActive, true)
	ref := e.person("ref", store.StateActive, false)
	otherRef := e.person("other.ref", store.StateActive, false)
	member := e.person("member", store.StateActive, false)
	other := e.structure("other")
	e.member(otherRef, other, true)
	actors := []*store.Person{&admin, &ref, &otherRef, &member, nil}
	n := 0
	for _, rt := range web.AdminRoutes {
		want, ok := expectations[rt.Action]
		if !ok {
			t.Errorf("%s %s: action %q has no rule in the matrix", rt.Method, rt.Pattern, rt.Action)
			continue
		}
		for i, as := range actors {
			n++
			s := e.structure(fmt.Sprintf("s%d", n))
			e.member(ref, s, true)
			e.member(member, s, false)
			target := e.person(fmt.Sprintf("target%d", n), store.StateDisabled, false)
			e.member(target, s, false)
			svc := e.service(s, "cloud", "Cloud")
			job := e.deadJob(target)
			preview := "unknown"
			if strings.Contains(rt.Pattern, "/import/{id}") && want[i] == allow {
				preview = e.upload(s.Slug, as)
			}
			path := strings.NewReplacer("{slug}", s.Slug, "{person}", target.ID, "{service}", svc.ID,
				"{job}", fmt.Sprint(job.ID), "{id}", preview).Replace(rt.Pattern)
			var form url.Values
			if rt.Method == http.MethodPost {
				form = url.Values{"slug": {fmt.Sprintf("new%d", n)}, "name": {"Nouveau"}, "given_name": {"A"},
					"family_name": {"B"}, "email": {fmt.Sprintf("target%d@example.org", n)}}
			}
			status, loc, _ := e.do(rt.Method, path, as, form)
			if got := outcome(status, loc); got != want[i] {
				t.Errorf("%s %s as %s: %s (status %d, Location %q), want %s", rt.Method, rt.Pattern, roles[i], got, status, loc, want[i])
			}
		}
	}
	// An unknown structure: not found for admins and referents, forbidden
	// for a member.
	for i, want := range []string{hidden, hidden, hidden, forbid, signin} {
		status, loc, _ := e.do("GET", "/admin/structures/nope", actors[i], nil)
		if got := outcome(status, loc); got != want {
			t.Errorf("unknown structure as %s: %s, want %s", roles[i], got, want)
		}
	}
}

// TestAdminIDsStayInTheirStructure: people, services and jobs of another
// structure are not found through this one's addresses, even for the
// referent of this one guessing ids, and even for an admin.
func TestAdminIDsStayInTheirStructure(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	admin := e.person("root", store.StateActive, true)
	ref := e.person("ref", store.StateActive, false)
	a, b := e.structure("a"), e.structure("b")
	e.member(ref, a, true)
	theirs := e.person("theirs", store.StateDisabled, false)
	e.member(theirs, b, false)
	svc := e.service(b, "cloud", "Cloud")
	job := e.deadJob(theirs)
	for _, as := range []*store.Person{&ref, &admin} {
		for _, c := range []struct{ method, path string }{
			{"GET", "/admin/structures/a/people/" + theirs.ID},
			{"POST", "/admin/structures/a/people/" + theirs.ID + "/disable"},
			{"POST", "/admin/structures/a/people/" + theirs.ID + "/rights"},
			{"POST", "/admin/structures/a/people/" + theirs.ID + "/delete"},
			{"GET", "/admin/structures/a/services/" + svc.ID + "/remove"},
			{"POST", "/admin/structures/a/services/" + svc.ID + "/remove"},
			{"POST", fmt.Sprintf("/admin/structures/a/jobs/%d/retry", job.ID)},
		} {
			var form url.Values
			if c.method == "POST" {
				form = url.Values{}
			}
			if status, _, _ := e.do(c.method, c.path, as, form); status != http.StatusNotFound {
				t.Errorf("%s %s as %s: %d, want 404", c.method, c.path, as.Username, status)
			}
		}
	}
	if _, err := e.st.GetService(context.Background(), svc.ID); err != nil {
		t.Fatalf("the other structure's service is gone: %v", err)
	}
	// A referent may not touch a hoster admin, nor a person shared with
	// another structure.
	shared := e.person("shared", store.StateActive, false)
	e.member(shared, a, false)
	e.member(shared, b, false)
	boss := e.person("boss", store.StateActive, true)
	e.member(boss, a, false)
	for _, p := range []store.Person{shared, boss} {
		if status, _, _ := e.do("POST", "/admin/structures/a/people/"+p.ID+"/disable", &ref, url.Values{}); status != http.StatusForbidden {
			t.Errorf("referent disables %s: %d, want 403", p.Username, status)
		}
		if status, _, _ := e.do("GET", "/admin/structures/a/people/"+p.ID, &ref, nil); status != http.StatusOK {
			t.Errorf("referent views %s: %d, want 200", p.Username, status)
		}
	}
	if status, _, _ := e.do("POST", "/admin/structures/a/people/"+shared.ID+"/disable", &admin, url.Values{"confirm": {shared.ID}}); status != http.StatusSeeOther {
		t.Errorf("admin disables a shared person: %d, want 303", status)
	}
	if p, _ := e.st.GetPerson(context.Background(), shared.ID); p.State != store.StateDisabled {
		t.Errorf("admin disables a shared person: %s", p.State)
	}
}

// TestAdminCrossOriginAndEscaping: every form refuses a cross-origin
// post, and names from a hostile spreadsheet are shown as text.
func TestAdminCrossOriginAndEscaping(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	admin := e.person("root", store.StateActive, true)
	s := e.structure("le-beta")
	ctx := context.Background()
	_, err := e.st.UpdateStructure(ctx, s.ID, func(x *store.Structure) error { x.Name = `<script>alert("s")</script>`; return nil })
	e.must(err)
	evil := store.Person{Username: "evil", Email: "evil@example.org", GivenName: `<script>alert(1)</script>`,
		FamilyName: `=cmd|' /C calc'!A0`, DisplayName: `<img src=x onerror=alert(2)>`, State: store.StateInvited}
	e.must(e.st.CreatePerson(ctx, &evil))
	e.member(evil, s, false)
	svc := e.service(s, "cloud", `<script>alert(3)</script>`)
	e.must(e.st.PutGrant(ctx, store.Grant{PersonID: evil.ID, ServiceID: svc.ID, Role: `<b>admin</b>`}))
	e.deadJob(evil)
	for _, path := range []string{"/admin/structures", "/admin/structures/le-beta", "/admin/structures/le-beta?q=%3Cscript%3E",
		"/admin/structures/le-beta/people/" + evil.ID, "/admin/structures/le-beta/services",
		"/admin/structures/le-beta/services/" + svc.ID + "/remove", "/admin/structures/le-beta/jobs",
		"/admin/structures/le-beta/imports", "/admin/structures/le-beta/remove", "/admin/structures/le-beta/audit",
		"/admin/structures/le-beta/audit?person=%3Cscript%3E"} {
		status, _, body := e.do("GET", path, &admin, nil)
		if status != http.StatusOK {
			t.Errorf("GET %s: %d", path, status)
			continue
		}
		for _, raw := range []string{"<script>", "<img", "<b>admin"} {
			if strings.Contains(body, raw) {
				t.Errorf("GET %s: %q unescaped", path, raw)
			}
		}
	}
	_, _, body := e.do("GET", "/admin/structures/le-beta/people/"+evil.ID, &admin, nil)
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "=cmd|&#39; /C calc&#39;!A0") {
		t.Errorf("the person page does not show the hostile names as text")
	}

	// Cross-origin posts are refused on every POST route and the portal's.
	posts := []string{"/account/password", "/account/language", "/account/signout", "/account/signout-everywhere"}
	for _, rt := range web.AdminRoutes {
		if rt.Method == "POST" {
			posts = append(posts, strings.NewReplacer("{slug}", "le-beta", "{person}", evil.ID, "{id}", "x", "{service}", svc.ID, "{job}", "1").Replace(rt.Pattern))
		}
	}
	for _, path := range posts {
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader("name=x&slug=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		req.AddCookie(&http.Cookie{Name: testCookie, Value: admin.ID})
		resp, err := http.DefaultClient.Do(req)
		e.must(err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin POST %s: %d, want 403", path, resp.StatusCode)
		}
	}
	if p, _ := e.st.GetPerson(ctx, evil.ID); p.State != store.StateInvited {
		t.Errorf("a cross-origin post changed the person: %s", p.State)
	}
}

// TestAdminBoard: states (invited, link expired, active, disabled), the
// filters, resend one and resend all, edit, disable, delete.
func TestAdminBoard(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref := e.person("ref", store.StateActive, false)
	s := e.structure("le-beta")
	e.member(ref, s, true)
	alice := e.person("alice", store.StateInvited, false)
	bruno := e.person("bruno", store.StateActive, false)
	carla := e.person("carla", store.StateDisabled, false)
	for _, p := range []store.Person{alice, bruno, carla} {
		e.member(p, s, false)
	}
	base := "/admin/structures/le-beta"
	status, _, body := e.do("GET", base, &ref, nil)
	if status != 200 || !strings.Contains(body, "alice@example.org") || !strings.Contains(body, "Invitée") || !strings.Contains(body, "Désactivée") {
		t.Fatalf("board: %d\n%s", status, body)
	}
	_, _, body = e.do("GET", base+"?state=disabled", &ref, nil)
	if !strings.Contains(body, "carla@example.org") || strings.Contains(body, "alice@example.org") {
		t.Errorf("state filter: %s", body)
	}
	_, _, body = e.do("GET", base+"?q=BRUN", &ref, nil)
	if !strings.Contains(body, "bruno@example.org") || strings.Contains(body, "carla@example.org") {
		t.Errorf("search: %s", body)
	}
	// An activation link that expired shows as such, and the last email
	// sent comes from the audit trail.
	now := time.Now()
	if err := e.st.IssueToken(ctx, store.Token{Hash: []byte("expired-link-hash-0123456789abcd"), PersonID: alice.ID,
		Purpose: store.PurposeActivate, CreatedAt: now.Add(-8 * 24 * time.Hour), ExpiresAt: now.Add(-24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	sent := store.AuditEntry{Actor: "job", Action: "mail.sent", Target: "mail:<x>", Time: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC),
		Details: map[string]any{"person_id": bruno.ID}}
	if err := e.st.AppendAudit(ctx, &sent); err != nil {
		t.Fatal(err)
	}
	_, _, body = e.do("GET", base+"?state=expired", &ref, nil)
	if !strings.Contains(body, "alice@example.org") || !strings.Contains(body, "Lien expiré") || strings.Contains(body, "bruno@example.org") {
		t.Errorf("expired filter: %s", body)
	}
	_, _, body = e.do("GET", base+"?q=bruno", &ref, nil)
	if !strings.Contains(body, "2026-03-04 05:06") {
		t.Errorf("last email of bruno missing: %s", body)
	}
	status, loc, _ := e.do("POST", base+"/resend", &ref, url.Values{})
	if status != http.StatusSeeOther || loc != base+"?done=resent" {
		t.Fatalf("resend all: %d %q", status, loc)
	}
	js, _ := e.st.ListJobs(ctx, store.JobFilter{Kind: "mail.activate"})
	if len(js) != 1 {
		t.Fatalf("resend all queued %d activation emails, want 1", len(js))
	}
	if _, _, body = e.do("GET", base+"?state=expired", &ref, nil); strings.Contains(body, "alice@example.org") {
		t.Errorf("a new link sent, alice still shows as expired: %s", body)
	}
	_, _, body = e.do("GET", base+"?lang=en", &ref, nil)
	if !strings.Contains(body, "Invited") {
		t.Errorf("English board: %s", body)
	}
	status, _, _ = e.do("POST", base+"/people/"+bruno.ID, &ref, url.Values{"given_name": {"Bruno"}, "family_name": {"Roy"},
		"display_name": {""}, "email": {"alice@example.org"}})
	if status != http.StatusUnprocessableEntity {
		t.Errorf("taken email: %d", status)
	}
	status, _, _ = e.do("POST", base+"/people/"+bruno.ID, &ref, url.Values{"given_name": {"Bruno"}, "family_name": {"Roy"},
		"display_name": {""}, "email": {"bruno.roy@example.org"}})
	if p, _ := e.st.GetPerson(ctx, bruno.ID); status != http.StatusSeeOther || p.Email != "bruno.roy@example.org" {
		t.Errorf("edit: %d %+v", status, p)
	}
	// The audit trail names who did it and from where, and only this
	// structure's entries.
	es, _ := e.st.ListAudit(ctx, store.AuditFilter{Action: "person.update"})
	if len(es) != 1 || es[0].Actor != "referent:ref" || es[0].IP != "127.0.0.1" || es[0].PersonID != bruno.ID {
		t.Errorf("audit of the edit: %+v", es)
	}
	_, _, body = e.do("GET", base+"/audit?person=bruno.roy@example.org", &ref, nil)
	if !strings.Contains(body, "person.update") || !strings.Contains(body, "127.0.0.1") {
		t.Errorf("audit page: %s", body)
	}
	e.do("POST", base+"/people/"+bruno.ID+"/disable", &ref, url.Values{"confirm": {bruno.ID}})
	status, _, body = e.do("GET", base+"/people/"+bruno.ID+"/delete", &ref, nil)
	if status != 200 || !strings.Contains(body, "Supprimer") {
		t.Errorf("delete confirmation: %d", status)
	}
	status, loc, _ = e.do("POST", base+"/people/"+bruno.ID+"/delete", &ref, url.Values{"confirm": {bruno.ID}})
	if _, err := e.st.GetPerson(ctx, bruno.ID); status != http.StatusSeeOther || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete: %d %q %v", status, loc, err)
	}
	if status, _, _ := e.do("POST", base+"/people/"+alice.ID+"/delete", &ref, url.Values{"confirm": {alice.ID}}); status != http.StatusConflict {
		t.Errorf("delete an invited person: %d, want 409", status)
	}
}

// TestPortal: signed out, a way to sign in; signed in, the services, the
// contact, the password change (current password required, other sessions
// ended), the language and signing out everywhere.
func TestPortal(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	s := e.structure("le-beta")
	svc := e.service(s, "cloud", "Nextcloud du Bêta")
	p := e.person("jean.dupont", store.StateActive, false)
	e.member(p, s, false)
	e.must(e.st.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: svc.ID, Role: "user"}))

	status, _, body := e.do("GET", "/", nil, nil)
	if status != 200 || !strings.Contains(body, `href="/signin?next=%2F"`) {
		t.Fatalf("signed out: %d\n%s", status, body)
	}
	status, _, body = e.do("GET", "/", &p, nil)
	for _, want := range []string{`href="https://cloud.le-beta.example"`, "Nextcloud du Bêta", "mailto:bureau@le-beta.example",
		`action="/account/password"`, `name="current"`} {
		if !strings.Contains(body, want) {
			t.Errorf("portal lacks %q", want)
		}
	}
	if strings.Contains(body, "/admin/structures") {
		t.Error("a member is offered the administration")
	}
	status, _, _ = e.do("POST", "/account/password", &p, url.Values{"current": {"wrong"}, "password": {"a brand new long passphrase 42"},
		"confirm": {"a brand new long passphrase 42"}})
	if status != http.StatusUnprocessableEntity {
		t.Errorf("wrong current password: %d", status)
	}
	before, _ := e.st.GetPerson(ctx, p.ID)
	status, loc, _ := e.do("POST", "/account/password", &p, url.Values{"current": {"pw of jean.dupont"},
		"password": {"a brand new long passphrase 42"}, "confirm": {"a brand new long passphrase 42"}})
	after, _ := e.st.GetPerson(ctx, p.ID)
	if status != http.StatusSeeOther || loc != "/?done=password" || after.PasswordHash == before.PasswordHash {
		t.Fatalf("password change: %d %q", status, loc)
	}
	if ok, _ := e.hasher.Verify(ctx, after.PasswordHash, "a brand new long passphrase 42"); !ok {
		t.Error("the new password does not verify")
	}
	if calls := e.sessions.list(); len(calls) != 1 || calls[0] != "others:"+p.ID {
		t.Errorf("sessions: %v", calls)
	}
	for _, kind := range []string{"ldap.person", "mail.password-changed"} {
		if js, _ := e.st.ListJobs(ctx, store.JobFilter{Kind: kind}); len(js) != 1 {
			t.Errorf("%d %s jobs, want 1", len(js), kind)
		}
	}
	status, loc, _ = e.do("POST", "/account/language", &p, url.Values{"language": {"en"}})
	if got, _ := e.st.GetPerson(ctx, p.ID); status != http.StatusSeeOther || got.Language != "en" {
		t.Errorf("language: %d %q %s", status, loc, got.Language)
	}
	status, loc, _ = e.do("POST", "/account/signout-everywhere", &p, url.Values{})
	if calls := e.sessions.list(); status != http.StatusSeeOther || calls[len(calls)-1] != "everywhere:"+p.ID {
		t.Errorf("sign out everywhere: %d %v", status, calls)
	}
	// Nobody may post the portal's forms.
	if status, loc, _ := e.do("POST", "/account/password", nil, url.Values{}); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?next=") {
		t.Errorf("anonymous password change: %d %q", status, loc)
	}
	// A referent gets a way to the administration.
	e.member(p, s, true)
	if _, _, body := e.do("GET", "/", &p, nil); !strings.Contains(body, `href="/admin/structures"`) {
		t.Error("a referent is not offered the administration")
	}
}

// TestAdminServices: add a service by kind and address (the secret shown
// once, the setup to paste), change its address (its redirect addresses
// follow), remove it with a confirmation.
func TestAdminServices(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref := e.person("ref", store.StateActive, false)
	s := e.structure("le-beta")
	e.member(ref, s, true)
	base := "/admin/structures/le-beta/services"
	status, _, body := e.do("POST", base, &ref, url.Values{"kind": {"nextcloud"}, "name": {`<script>alert("nc")</script>`},
		"url": {"https://cloud.lebeta.example/"}})
	if status != 200 || !strings.Contains(body, "le-beta.nextcloud") || !strings.Contains(body, "https://cloud.lebeta.example") {
		t.Fatalf("add: %d\n%s", status, body)
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("the service's name is not escaped")
	}
	svc, err := e.st.GetServiceByClientID(ctx, "le-beta.nextcloud")
	e.must(err)
	m := regexp.MustCompile(`class="mono secret">([A-Za-z0-9_-]{43})<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret shown:\n%s", body)
	}
	if svc.ClientSecretHash != idp.HashClientSecret(m[1]) {
		t.Error("the secret shown is not the one stored")
	}
	if len(svc.RedirectURIs) == 0 || !strings.HasPrefix(svc.RedirectURIs[0], "https://cloud.lebeta.example/") {
		t.Fatalf("redirect URIs: %v", svc.RedirectURIs)
	}
	if _, _, body := e.do("GET", base, &ref, nil); strings.Contains(body, m[1]) {
		t.Error("the secret is shown again")
	}
	if status, _, _ := e.do("POST", base, &ref, url.Values{"kind": {"nextcloud"}, "name": {"X"}, "url": {"ftp://x"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("bad address: %d", status)
	}
	if status, _, _ := e.do("POST", base, &ref, url.Values{"kind": {"paheko"}, "name": {"Compta"}, "url": {"https://compta.example"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("paheko without categories: %d", status)
	}
	status, _, _ = e.do("POST", base, &ref, url.Values{"kind": {"paheko"}, "name": {"Compta"}, "url": {"https://compta.example"},
		"categories": {"Membres, Bureau"}})
	if pk, err := e.st.GetServiceByClientID(ctx, "le-beta.paheko"); status != 200 || err != nil || len(pk.Roles) != 2 {
		t.Errorf("paheko: %d %v %+v", status, err, pk.Roles)
	}
	// A generic client gets the redirect address given, on its own site only.
	status, _, _ = e.do("POST", base, &ref, url.Values{"kind": {"generic"}, "name": {"Appli"}, "url": {"https://appli.lebeta.example"},
		"redirect": {"https://appli.lebeta.example/oidc/cb"}})
	if g, err := e.st.GetServiceByClientID(ctx, "le-beta.generic"); status != 200 || err != nil ||
		len(g.RedirectURIs) != 1 || g.RedirectURIs[0] != "https://appli.lebeta.example/oidc/cb" {
		t.Errorf("generic with a redirect address: %d %v %+v", status, err, g.RedirectURIs)
	}
	if status, _, body := e.do("POST", base, &ref, url.Values{"kind": {"generic"}, "name": {"Autre"}, "url": {"https://autre.lebeta.example"},
		"redirect": {"https://evil.example/cb"}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, `value="https://evil.example/cb"`) {
		t.Errorf("redirect address on another site: %d", status)
	}
	status, loc, _ := e.do("POST", base+"/"+svc.ID, &ref, url.Values{"url": {"https://nuage.lebeta.example"}})
	moved, _ := e.st.GetService(ctx, svc.ID)
	if status != http.StatusSeeOther || loc != base+"?done=updated" || moved.BaseURL != "https://nuage.lebeta.example" ||
		!strings.HasPrefix(moved.RedirectURIs[0], "https://nuage.lebeta.example/") {
		t.Errorf("change address: %d %q %+v", status, loc, moved)
	}
	if status, _, _ := e.do("POST", base+"/"+svc.ID, &ref, url.Values{"url": {"nope"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("bad new address: %d", status)
	}
	// The same form requires two factors for the service, or no longer.
	if _, _, page := e.do("GET", base, &ref, nil); !strings.Contains(page, `id="mfa-`+svc.ID+`"`) {
		t.Errorf("no two-factor box on the services page")
	}
	for _, want := range []bool{true, false} {
		form := url.Values{"url": {"https://nuage.lebeta.example"}}
		if want {
			form.Set("require_mfa", "1")
		}
		status, _, _ := e.do("POST", base+"/"+svc.ID, &ref, form)
		if got, _ := e.st.GetService(ctx, svc.ID); status != http.StatusSeeOther || got.RequireMFA != want {
			t.Errorf("require_mfa %v: %d %v", want, status, got.RequireMFA)
		}
	}
	if status, _, body := e.do("GET", base+"/"+svc.ID+"/remove", &ref, nil); status != 200 || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("remove confirmation: %d", status)
	}
	status, _, _ = e.do("POST", base+"/"+svc.ID+"/remove", &ref, url.Values{})
	if _, err := e.st.GetService(ctx, svc.ID); status != http.StatusSeeOther || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("remove: %d %v", status, err)
	}
}

// testLookupHost is the administration's resolver in these tests: no
// network, names of rebind.example resolve to this machine (a name made to
// reach it, as 127.0.0.1.nip.io does), names of public.example to a public
// address only.
func testLookupHost(_ context.Context, host string) ([]string, error) {
	if host == "rebind.example" || strings.HasSuffix(host, ".rebind.example") {
		return []string{"93.184.215.14", "127.0.0.1"}, nil
	}
	if strings.HasSuffix(host, ".public.example") {
		return []string{"93.184.215.14"}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
