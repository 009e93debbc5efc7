package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
	"sesame/onboarding"
	"sesame/web"
)

// clock is an injected, settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recordingSessions records the people whose sessions were ended.
type recordingSessions struct {
	mu    sync.Mutex
	ended []string
}

func (s *recordingSessions) EndAllSessions(_ context.Context, personID string) error {
	s.mu.Lock()
	s.ended = append(s.ended, personID)
	s.mu.Unlock()
	return nil
}

func (s *recordingSessions) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ended...)
}

// env is a running account server over a real SQLite store.
type env struct {
	t         *testing.T
	st        store.Store
	clock     *clock
	tokens    *onboarding.Tokens
	hasher    *password.Hasher
	account   *web.Account
	sessions  *recordingSessions
	srv       *httptest.Server
	structure store.Structure
	cloud     store.Service
	blog      store.Service
}

type envOption func(*web.Account)

// fastParams keep tests quick; production uses password.DefaultParams.
var fastParams = password.Params{Memory: 1024, Time: 1, Threads: 1}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, "sqlite", opts...)
}

// backends are the store backends the flows that depend on transactions
// run against.
var backends = []string{"sqlite", "postgres"}

// onBackends runs f once per store backend.
func onBackends(t *testing.T, f func(t *testing.T, backend string)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { f(t, b) })
	}
}

// newEnvOn starts the account pages over a fresh store of backend
// ("sqlite", or "postgres" in a fresh database from SESAME_TEST_POSTGRES).
func newEnvOn(t *testing.T, backend string, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	var db interface {
		store.Store
		Migrate(context.Context) error
	}
	switch backend {
	case "postgres":
		pg, err := postgres.Open(ctx, testenv.Postgres(t), c.Now)
		if err != nil {
			t.Fatal(err)
		}
		db = pg
	default:
		lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sesame.db"), c.Now)
		if err != nil {
			t.Fatal(err)
		}
		db = lite
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: db, clock: c, sessions: &recordingSessions{}}
	e.tokens = &onboarding.Tokens{Key: []byte("0123456789abcdef0123456789abcdef-test-key"), Now: c.Now}
	e.hasher = password.NewHasher(fastParams, 4)
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	rd, err := web.NewRenderer(nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	e.account = &web.Account{
		Store: db, Tokens: e.tokens, Hasher: e.hasher, Policy: password.DefaultPolicy(), Renderer: rd,
		Sessions: e.sessions, PublicURL: "https://sesame.example", Now: c.Now, Logger: logger,
		LinkRequestTime: 50 * time.Millisecond,
	}
	for _, o := range opts {
		o(e.account)
	}
	mux := http.NewServeMux()
	e.account.Mount(mux)
	web.StaticHandler{}.Mount(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)

	e.structure = store.Structure{Slug: "le-beta", Name: "Le Bêta", Contact: "bureau@lebeta.example"}
	if err := db.CreateStructure(ctx, &e.structure); err != nil {
		t.Fatal(err)
	}
	e.cloud = store.Service{StructureID: e.structure.ID, Kind: store.KindNextcloud, Slug: "nextcloud",
		Name: "Nextcloud du Bêta", BaseURL: "https://cloud.lebeta.example", DefaultRole: "user",
		ClientID: "le-beta-nextcloud", RedirectURIs: []string{"https://cloud.lebeta.example/cb"},
		SigningAlg: "RS256", AuthMethod: "client_secret_basic"}
	e.blog = store.Service{StructureID: e.structure.ID, Kind: store.KindWordPress, Slug: "wordpress",
		Name: "Site du Bêta", BaseURL: "https://www.lebeta.example", DefaultRole: "subscriber",
		ClientID: "le-beta-wordpress", RedirectURIs: []string{"https://www.lebeta.example/cb"},
		SigningAlg: "RS256", AuthMethod: "client_secret_basic"}
	for _, s := range []*store.Service{&e.cloud, &e.blog} {
		if err := db.CreateService(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// person creates a person in state, member of the structure with grants on
// both services.
func (e *env) person(username, email string, state store.PersonState) store.Person {
	e.t.Helper()
	ctx := context.Background()
	given, family, _ := strings.Cut(username, ".")
	p := store.Person{Username: username, Email: email, GivenName: strings.ToUpper(given[:1]) + given[1:],
		FamilyName: strings.ToUpper(family[:1]) + family[1:], Language: "fr", State: state}
	if state == store.StateActive {
		h, err := e.hasher.Hash(ctx, "the old password of "+username)
		if err != nil {
			e.t.Fatal(err)
		}
		p.PasswordHash = h
		p.PasswordChangedAt = e.clock.Now()
	}
	if err := e.st.CreatePerson(ctx, &p); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: e.structure.ID}); err != nil {
		e.t.Fatal(err)
	}
	for _, g := range []store.Grant{{PersonID: p.ID, ServiceID: e.cloud.ID, Role: "user"},
		{PersonID: p.ID, ServiceID: e.blog.ID, Role: "editor"}} {
		if err := e.st.PutGrant(ctx, g); err != nil {
			e.t.Fatal(err)
		}
	}
	return p
}

// issue issues a token as onboarding does and returns the link's secret,
// read back from the enqueued mail job's nonce.
func (e *env) issue(p store.Person, purpose store.TokenPurpose) string {
	e.t.Helper()
	ctx := context.Background()
	err := e.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := e.tokens.Issue(ctx, tx, p.ID, e.structure.ID, purpose)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	secret, ok := e.lastLinkSecret(p.ID, purpose)
	if !ok {
		e.t.Fatalf("no mail job for %s", p.Username)
	}
	return secret
}

func mailKind(purpose store.TokenPurpose) string {
	if purpose == store.PurposeReset {
		return jobs.KindMailReset
	}
	return jobs.KindMailActivate
}

// linkJobs returns the mail jobs of purpose for a person, oldest first.
func (e *env) linkJobs(personID string, purpose store.TokenPurpose) []jobs.TokenMail {
	e.t.Helper()
	js, err := e.st.ListJobs(context.Background(), store.JobFilter{Kind: mailKind(purpose), Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []jobs.TokenMail
	for _, j := range js {
		var m jobs.TokenMail
		if err := json.Unmarshal(j.Payload, &m); err != nil {
			e.t.Fatal(err)
		}
		if m.PersonID == personID {
			out = append(out, m)
		}
	}
	return out
}

func (e *env) lastLinkSecret(personID string, purpose store.TokenPurpose) (string, bool) {
	ms := e.linkJobs(personID, purpose)
	if len(ms) == 0 {
		return "", false
	}
	return e.tokens.Secret(ms[len(ms)-1].Nonce), true
}

// countJobs counts jobs of kind whose payload names personID.
func (e *env) countJobs(kind, personID string) int {
	e.t.Helper()
	js, err := e.st.ListJobs(context.Background(), store.JobFilter{Kind: kind, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, j := range js {
		if strings.Contains(string(j.Payload), personID) {
			n++
		}
	}
	return n
}

func (e *env) getPerson(id string) store.Person {
	e.t.Helper()
	p, err := e.st.GetPerson(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (e *env) get(path string, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

func (e *env) post(path string, form url.Values, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

func pw(p string) url.Values { return url.Values{"password": {p}, "confirm": {p}} }

// goodPassword passes the default policy.
const goodPassword = "trois girafes mangent du gratin dauphinois"

func mustContain(t *testing.T, r response, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.body, w) {
			t.Errorf("page (status %d) lacks %q:\n%s", r.status, w, r.body)
		}
	}
}

func mustStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, want, r.body)
	}
}
