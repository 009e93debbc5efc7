package idp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"sesame/internal/jobs"
	"sesame/internal/password"
	"sesame/internal/store"
)

// clock is the injected time of a test.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Now().UTC().Truncate(time.Second).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

// The fixture's people and clients.
const (
	testPassword = "correct horse battery staple"
	secretNC     = "nextcloud-secret-0123456789"
	secretWP     = "wordpress-secret-0123456789"
	secretPK     = "paheko-secret-0123456789"
	secretGen    = "generic-secret-0123456789"
	ncRedirect   = "https://nc.example/index.php/apps/user_oidc/code"
	wpRedirect   = "https://wp.example/wp-admin/admin-ajax.php?action=openid-connect-authorize"
	pkRedirect   = "https://paheko.example/admin/login.php?oidc"
	genRedirect  = "https://app.example/callback"
	wpLogout     = "https://wp.example/wp-login.php?loggedout=true&wp_lang=en_US"
	ncLogout     = "https://nc.example/index.php/apps/user_oidc/logged-out?from=sesame"
)

// backchannelSink records the logout tokens it accepts; refuse holds the
// statuses it answers to the next posts first (a client that is down).
type backchannelSink struct {
	mu     sync.Mutex
	tokens []string
	posts  int
	refuse []int
	// bodies, when not empty, are the bodies of the refusals, in turn.
	bodies []string
}

func (b *backchannelSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.posts++
	if len(b.refuse) > 0 {
		w.WriteHeader(b.refuse[0])
		b.refuse = b.refuse[1:]
		if len(b.bodies) > 0 {
			_, _ = io.WriteString(w, b.bodies[0])
			b.bodies = b.bodies[1:]
		}
		return
	}
	b.tokens = append(b.tokens, r.PostForm.Get("logout_token"))
}

func (b *backchannelSink) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.tokens...)
}

type fixture struct {
	t      testing.TB
	st     store.Store
	clock  *clock
	p      *Provider
	srv    *httptest.Server
	issuer string
	bc     *backchannelSink
	runner *jobs.Runner
	cfg    Config
	bcSrv  *httptest.Server

	structure               store.Structure
	nc, wp, pk, gen         store.Service
	alice, bob, carol, dave store.Person
	hasher                  *password.Hasher
}

// sharedKeys is an option of newFixture that puts into the fixture's store,
// before the provider starts, signing keys made once per test binary, as
// KeyManager.Ensure makes them (sealed under the fixture's master key,
// published an hour before the fixture's clock starts). Making an RSA key
// costs tens to hundreds of milliseconds: a suite that builds a fixture per
// case would spend much of its time there.
func sharedKeys(t testing.TB) func(*Config) {
	return func(c *Config) {
		t.Helper()
		ctx := context.Background()
		sharedKeySet.once.Do(func() {
			st := openStore(t)
			km := &KeyManager{Store: st, MasterKey: c.MasterKey, Now: func() time.Time { return time.Now().Add(-time.Hour) }}
			if err := km.Ensure(ctx); err != nil {
				sharedKeySet.err = err
				return
			}
			sharedKeySet.master = string(c.MasterKey)
			sharedKeySet.keys, sharedKeySet.err = st.ListSigningKeys(ctx)
		})
		if sharedKeySet.err != nil || sharedKeySet.master != string(c.MasterKey) {
			t.Fatalf("shared signing keys: %v (master key %q)", sharedKeySet.err, sharedKeySet.master)
		}
		for _, k := range sharedKeySet.keys {
			if err := c.Store.CreateSigningKey(ctx, &k); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var sharedKeySet struct {
	once   sync.Once
	master string
	keys   []store.SigningKey
	err    error
}

// testHasher hashes cheaply: the parameters travel in the PHC string, so
// verification is as cheap.
func testHasher() *password.Hasher {
	return password.NewHasher(password.Params{Memory: 1024, Time: 1, Threads: 1}, 8)
}

func newFixture(t testing.TB, opts ...func(*Config)) *fixture {
	t.Helper()
	return newFixtureOn(t, openStore(t), opts...)
}

func newFixtureOn(t testing.TB, st store.Store, opts ...func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, st: st, clock: newClock(), bc: &backchannelSink{}, hasher: testHasher()}
	f.bcSrv = httptest.NewServer(f.bc)
	t.Cleanup(f.bcSrv.Close)
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.issuer = f.srv.URL
	f.seed(ctx)
	cfg := Config{Issuer: f.issuer, Store: st, Hasher: f.hasher, MasterKey: []byte("0123456789abcdef0123456789abcdef"),
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})), Now: f.clock.Now}
	for _, o := range opts {
		o(&cfg)
	}
	f.issuer = cfg.Issuer
	p, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Mount(mux)
	f.p, f.cfg = p, cfg
	// Back-channel logouts are jobs: f.deliver runs them, retrying at once.
	f.runner = jobs.NewRunner(st, jobs.Config{BackoffBase: time.Nanosecond, BackoffMax: time.Nanosecond}, cfg.Logger)
	p.Register(f.runner)
	return f
}

// deliver runs the queued jobs (back-channel logouts) until none is due.
func (f *fixture) deliver() {
	f.t.Helper()
	if _, err := f.runner.RunOnce(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) hash(secret string) string {
	h, err := f.hasher.Hash(context.Background(), secret)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func (f *fixture) seed(ctx context.Context) {
	t := f.t
	f.structure = store.Structure{Slug: "le-beta", Name: "Le Bêta", Contact: "referente@lebeta.example"}
	if err := f.st.CreateStructure(ctx, &f.structure); err != nil {
		t.Fatal(err)
	}
	mk := func(kind store.ServiceKind, slug, name, clientID, secret string, redirects, logouts []string, mod func(*store.Service)) store.Service {
		s := store.Service{StructureID: f.structure.ID, Kind: kind, Slug: slug, Name: name, BaseURL: "https://" + slug + ".example",
			ClientID: clientID, ClientSecretHash: HashClientSecret(secret), RedirectURIs: redirects, PostLogoutURIs: logouts,
			SigningAlg: AlgRS256, DefaultRole: "user"}
		if mod != nil {
			mod(&s)
		}
		if err := f.st.CreateService(ctx, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	f.nc = mk(store.KindNextcloud, "nextcloud", "Nextcloud", "nc-client", secretNC, []string{ncRedirect}, []string{ncLogout}, func(s *store.Service) {
		s.RefreshTokens, s.RequirePKCE, s.AuthMethod = true, true, "client_secret_post"
		s.BackchannelLogoutURI = f.bcSrv.URL + "/index.php/apps/user_oidc/backchannel-logout/sesame"
	})
	f.wp = mk(store.KindWordPress, "wordpress", "WordPress", "wp-client", secretWP, []string{wpRedirect}, []string{wpLogout}, func(s *store.Service) {
		s.AuthMethod = "client_secret_post"
	})
	f.pk = mk(store.KindPaheko, "paheko", "Paheko", "pk-client", secretPK, []string{pkRedirect}, nil, func(s *store.Service) {
		s.AuthMethod, s.SigningAlg = "client_secret_post", AlgES256
	})
	f.gen = mk(store.KindGeneric, "app", "Appli", "gen-client", secretGen, []string{genRedirect}, []string{"https://app.example/bye"}, func(s *store.Service) {
		s.RefreshTokens, s.AuthMethod = true, "client_secret_basic"
		s.BackchannelLogoutURI = f.bcSrv.URL + "/app/backchannel"
	})
	pw := f.hash(testPassword)
	mkp := func(username, email, given, family string, state store.PersonState) store.Person {
		p := store.Person{Username: username, Email: email, GivenName: given, FamilyName: family,
			DisplayName: given + " " + family, Language: "fr", State: state, Quota: "5 GB"}
		if state != store.StateInvited {
			p.PasswordHash = pw
		}
		if err := f.st.CreatePerson(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if err := f.st.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: f.structure.ID}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.alice = mkp("alice.martin", "Alice.Martin@lebeta.example", "Alice", "Martin", store.StateActive)
	f.bob = mkp("bob.durand", "bob@lebeta.example", "Bob", "Durand", store.StateActive)
	f.carol = mkp("carol.petit", "carol@lebeta.example", "Carol", "Petit", store.StateDisabled)
	f.dave = mkp("dave.roux", "dave@lebeta.example", "Dave", "Roux", store.StateInvited)
	grant := func(p store.Person, s store.Service, role string) {
		if err := f.st.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: s.ID, Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []store.Service{f.nc, f.wp, f.pk, f.gen} {
		grant(f.alice, s, "user")
		grant(f.carol, s, "user")
	}
	if err := f.st.PutGrant(ctx, store.Grant{PersonID: f.alice.ID, ServiceID: f.nc.ID, Role: "admin"}); err != nil {
		t.Fatal(err)
	}
}

// browser is a person's user agent: it keeps cookies and stops at the first
// redirect that leaves the provider.
type browser struct {
	f      *fixture
	client *http.Client
}

func (f *fixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	host := strings.TrimPrefix(f.srv.URL, "http://")
	return &browser{f: f, client: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != host {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

// result is what the browser ended on.
type result struct {
	status   int
	body     string
	location *url.URL // set when the provider redirected away
}

func (b *browser) do(req *http.Request) result {
	b.f.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	res := result{status: resp.StatusCode, body: string(body)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			b.f.t.Fatal(err)
		}
		res.location = loc
	}
	return res
}

func (b *browser) get(u string) result {
	b.f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) result {
	b.f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var reqField = regexp.MustCompile(`name="req" value="([^"]+)"`)

// isLoginForm reports whether res is the login form.
func (r result) isLoginForm() bool {
	return r.status == http.StatusOK && strings.Contains(r.body, `name="password"`)
}

// login fills the login form res shows.
func (b *browser) login(res result, username, pw string) result {
	b.f.t.Helper()
	m := reqField.FindStringSubmatch(res.body)
	if m == nil {
		b.f.t.Fatalf("not a login form: %d %s", res.status, res.body)
	}
	return b.post(b.f.issuer+"/login", url.Values{"req": {m[1]}, "username": {username}, "password": {pw}})
}

// authParams are a client's authorization request parameters.
func authParams(clientID, redirect string, extra ...string) url.Values {
	v := url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid email profile"}, "state": {"st-" + randomID(6)}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			v.Del(extra[i])
			continue
		}
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func (f *fixture) authURL(v url.Values) string { return f.issuer + "/authorize?" + v.Encode() }

// pkce returns a verifier and its S256 challenge.
func pkce() (string, string) {
	v := randomID(32)
	h := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(h[:])
}

// codeFrom reads the code from a redirect, checking the redirect URI and state.
func (f *fixture) codeFrom(res result, redirect, state string) string {
	f.t.Helper()
	if res.location == nil {
		f.t.Fatalf("no redirect: %d %.400s", res.status, res.body)
	}
	if !strings.HasPrefix(res.location.String(), redirect) {
		f.t.Fatalf("redirected to %s, want %s...", res.location, redirect)
	}
	q := res.location.Query()
	if q.Get("error") != "" {
		f.t.Fatalf("error redirect: %s", res.location)
	}
	if q.Get("state") != state {
		f.t.Fatalf("state %q, want %q", q.Get("state"), state)
	}
	return q.Get("code")
}

// tokenReq posts to the token endpoint with client_secret_post (or basic
// when basic is set) and returns the status and JSON body.
func (f *fixture) tokenReq(clientID, secret string, basic bool, form url.Values) (int, map[string]any) {
	f.t.Helper()
	if !basic {
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest(http.MethodPost, f.issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		f.t.Fatalf("token response %d is not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

func (f *fixture) exchange(svc store.Service, secret, code, redirect, verifier string) (int, map[string]any) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return f.tokenReq(svc.ClientID, secret, svc.AuthMethod == "client_secret_basic", form)
}

func (f *fixture) userinfo(accessToken string) (int, map[string]any) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// rp is an independent relying party built on go-oidc and x/oauth2.
type rp struct {
	f        *fixture
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (f *fixture) rp(svc store.Service, secret, redirect string) *rp {
	f.t.Helper()
	prov, err := oidc.NewProvider(context.Background(), f.issuer)
	if err != nil {
		f.t.Fatal(err)
	}
	ep := prov.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	if svc.AuthMethod == "client_secret_basic" {
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	return &rp{f: f, provider: prov, conf: oauth2.Config{ClientID: svc.ClientID, ClientSecret: secret, Endpoint: ep,
		RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}},
		verifier: prov.Verifier(&oidc.Config{ClientID: svc.ClientID, Now: f.clock.Now})}
}

// flow runs a whole code flow with PKCE and nonce in b, logging in when the
// form appears, and returns the token and verified ID token.
func (c *rp) flow(b *browser, username string) (*oauth2.Token, *oidc.IDToken) {
	c.f.t.Helper()
	state, nonce := "state-"+randomID(8), "nonce-"+randomID(8)
	verifier := oauth2.GenerateVerifier()
	res := b.get(c.conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if res.isLoginForm() {
		res = b.login(res, username, testPassword)
	}
	tok, idt := c.exchange(c.f.codeFrom(res, c.conf.RedirectURL, state), verifier)
	if idt.Nonce != nonce {
		c.f.t.Fatalf("nonce %q, want %q", idt.Nonce, nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		c.f.t.Fatalf("at_hash: %v", err)
	}
	return tok, idt
}

// exchange trades code for tokens with go-oidc and verifies the ID token.
func (c *rp) exchange(code, verifier string) (*oauth2.Token, *oidc.IDToken) {
	c.f.t.Helper()
	tok, err := c.conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		c.f.t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := c.verifier.Verify(context.Background(), raw)
	if err != nil {
		c.f.t.Fatalf("verify ID token: %v", err)
	}
	return tok, idt
}

func mustClaims(t *testing.T, idt *oidc.IDToken) map[string]any {
	t.Helper()
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func errCode(body map[string]any) string {
	s, _ := body["error"].(string)
	return s
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return fmt.Sprintf("%s", b)
}
