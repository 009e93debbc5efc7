package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"sesame/internal/testenv"
)

// TestReplicasPostgres runs two "sesame serve" processes of the built
// binary on one PostgreSQL database behind a load balancer without sticky
// sessions, as a hoster runs them, and checks that nothing a person or a
// relying party does depends on which replica answers: an independent
// relying party (go-oidc, x/oauth2) logs in with the authorization on A,
// the password on B and the code exchange on A; refreshes on B; logs out
// on A, which ends the session B sees; a key rotation made by the command
// line is published and used by both; ten failed passwords split across A
// and B exhaust the login limit as they would on one replica; and every
// job (activation emails, back-channel logout) runs once though both
// replicas run job runners.
func TestReplicasPostgres(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dsn := testenv.Postgres(t)
	mp := testenv.StartMailpit(t)
	bin := buildBinary(t)
	portA, portB, lbPort, rpPort := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", lbPort)
	redirect := fmt.Sprintf("http://127.0.0.1:%d/cb", rpPort)
	bye := fmt.Sprintf("http://127.0.0.1:%d/bye", rpPort)
	logoutTokens := startE2EBackchannelSink(t, rpPort)
	dir := t.TempDir()
	envFor := func(name string, port int) []string {
		return cleanEnv(
			"SESAME_STORE_DRIVER=postgres", "SESAME_STORE_POSTGRES_DSN="+dsn,
			"SESAME_DATA_DIR="+filepath.Join(dir, name),
			// One master key for every replica: emailed links and the
			// signing keys' encryption derive from it.
			"SESAME_SECRETS_KEY_FILE="+filepath.Join(dir, "secret.key"),
			fmt.Sprintf("SESAME_LISTEN=127.0.0.1:%d", port),
			"SESAME_PUBLIC_URL="+base,
			"SESAME_JOBS_POLL_INTERVAL=50ms",
			"SESAME_REPLICAS_KEY_RELOAD=500ms",
			"SESAME_MAIL_DRIVER=smtp", "SESAME_MAIL_SMTP_HOST="+mp.SMTPHost,
			fmt.Sprintf("SESAME_MAIL_SMTP_PORT=%d", mp.SMTPPort), "SESAME_MAIL_SMTP_TLS=none",
			"SESAME_MAIL_FROM=sesame <sesame@hoster.example>")
	}
	envA, envB := envFor("a", portA), envFor("b", portB)

	e2eRun(t, bin, envA, "migrate")
	e2eRun(t, bin, envA, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "referente@le-beta.example")
	ncID, ncSecret := e2eClientCredentials(t, e2eRun(t, bin, envA, "service", "add", "le-beta", "nextcloud",
		"--name", "Nextcloud", "--url", "https://nc.example", "--redirect-uri", redirect, "--post-logout-uri", bye,
		"--backchannel-logout-uri", fmt.Sprintf("http://127.0.0.1:%d/backchannel", rpPort)))

	lb := startReplicaLB(t, lbPort, portA, portB)
	a := startE2EServer(t, bin, envA, fmt.Sprintf("http://127.0.0.1:%d", portA))
	b := startE2EServer(t, bin, envB, fmt.Sprintf("http://127.0.0.1:%d", portB))

	// 1. Jobs: an import made while both replicas run queues one
	// activation email per person; both runners claim from the one queue,
	// and each email goes out once.
	const people = 8
	var csv strings.Builder
	csv.WriteString("Prénom;Nom;Courriel;Droits\n")
	for i := range people {
		fmt.Fprintf(&csv, "Personne;Numéro%d;p%d@le-beta.example;nextcloud\n", i, i)
	}
	csvPath := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	report := parseReport(t, e2eRun(t, bin, envA, "import", "le-beta", csvPath, "--format", "json"))
	if report.Summary["create"] != people {
		t.Fatalf("import report: %+v", report)
	}
	activation := e2eWaitForMail(t, mp, "p0@le-beta.example", "choisissez votre mot de passe", nil)
	for i := 1; i < people; i++ {
		e2eWaitForMail(t, mp, fmt.Sprintf("p%d@le-beta.example", i), "choisissez votre mot de passe", nil)
	}
	time.Sleep(time.Second) // a duplicate would have had time to go out
	perAddress := map[string]int{}
	for _, m := range mp.Messages() {
		for _, to := range m.To {
			perAddress[strings.ToLower(to.Address)]++
		}
	}
	for i := range people {
		if n := perAddress[fmt.Sprintf("p%d@le-beta.example", i)]; n != 1 {
			t.Errorf("p%d received %d emails, want exactly 1 (the activation)", i, n)
		}
	}
	t.Logf("activation emails sent by A: %d, by B: %d", strings.Count(a.logs.String(), "kind=mail.activate"),
		strings.Count(b.logs.String(), "kind=mail.activate"))
	username := report.Rows[0].Username
	for _, r := range report.Rows {
		if r.Email == "p0@le-beta.example" {
			username = r.Username
		}
	}

	// 2. Activation: the page from A, the password posted to B.
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/activate/[A-Za-z0-9_-]+`).FindString(activation.Text)
	if link == "" {
		t.Fatalf("no activation link in:\n%s", activation.Text)
	}
	br := newE2EBrowser(t, base)
	lb.pin(0)
	page := br.get(link)
	page.want(http.StatusOK, `name="confirm"`)
	lb.pin(1)
	br.post(page.formAction(t), url.Values{"password": {e2ePassword}, "confirm": {e2ePassword}}, base).
		want(http.StatusOK, "Votre compte est activé")

	// 3. Login: authorization on A, password on B, code exchange on A.
	lb.pin(0)
	nc := newE2ERelyingParty(ctx, t, base, ncID, ncSecret, redirect)
	state, nonce, verifier := "st-"+e2eRandom(t), "n-"+e2eRandom(t), oauth2.GenerateVerifier()
	page = br.get(nc.conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	page.want(http.StatusOK, `name="password"`)
	lb.pin(1)
	code := e2eCodeFrom(t, br.login(page, username, e2ePassword), redirect, state)
	lb.pin(0)
	tok, err := nc.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code from B exchanged on A: %v", err)
	}
	idt, err := nc.verifier.Verify(ctx, tok.Extra("id_token").(string))
	if err != nil || idt.Nonce != nonce {
		t.Fatalf("ID token: %v (nonce %q)", err, idt.Nonce)
	}

	// The SSO session made on B is seen by A and B: no form on either.
	for i := range 2 {
		lb.pin(i)
		st := fmt.Sprintf("sso-%d", i)
		page = br.get(nc.conf.AuthCodeURL(st, oidc.Nonce("n"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		e2eCodeFrom(t, page, redirect, st)
	}

	// 4. Refresh on B, then the rotated token on A; the first one replayed
	// on A is refused (reuse detection reads the same family).
	lb.pin(1)
	refreshed, err := nc.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || refreshed.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh on B: %v", err)
	}
	lb.pin(0)
	again, err := nc.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh on A of the token B issued: %v", err)
	}
	if _, err := nc.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("a refresh token used on B worked again on A")
	}
	_ = again

	// 5. Logout on A ends the session B sees; the back-channel logout job
	// runs once.
	// (Confirmed on sesame's page: the client whose own ID token starts a
	// logout gets no back-channel logout.)
	lb.pin(0)
	page = br.post(base+"/logout", url.Values{"confirm": {"1"}, "client_id": {nc.conf.ClientID},
		"post_logout_redirect_uri": {bye}, "state": {"bye"}}, base)
	if page.location == nil || page.location.String() != bye+"?state=bye" {
		t.Fatalf("logout on A ended on %d %v\n%.600s", page.status, page.location, page.body)
	}
	select {
	case <-logoutTokens:
	case <-time.After(15 * time.Second):
		t.Fatal("no back-channel logout token within 15 s")
	}
	select {
	case extra := <-logoutTokens:
		t.Errorf("a second back-channel logout token (the job ran twice?): %.80s", extra)
	case <-time.After(time.Second):
	}
	lb.pin(1)
	br.get(nc.conf.AuthCodeURL("after", oidc.Nonce("n"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))).want(http.StatusOK, `name="password"`)

	// 6. Key rotation by the command line: both replicas publish the new
	// keys, then both sign with them.
	out := e2eRun(t, bin, envA, "keys", "rotate", "--publish-delay", "2s")
	newKids := regexp.MustCompile(`New key (\S+) published`).FindAllStringSubmatch(out, -1)
	if len(newKids) == 0 {
		t.Fatalf("keys rotate printed no key:\n%s", out)
	}
	var kids []string
	for _, m := range newKids {
		kids = append(kids, m[1])
	}
	for i := range 2 {
		lb.pin(i)
		waitFor(t, 15*time.Second, fmt.Sprintf("replica %c publishes keys %v", 'A'+i, kids), func() bool {
			_, body := get(t, base+"/jwks")
			for _, k := range kids {
				if !strings.Contains(body, `"`+k+`"`) {
					return false
				}
			}
			return true
		})
	}
	lb.pin(0)
	page = br.get(nc.conf.AuthCodeURL("rot", oidc.Nonce("n"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	e2eCodeFrom(t, br.login(page, username, e2ePassword), redirect, "rot")
	for i := range 2 {
		lb.pin(i)
		waitFor(t, 15*time.Second, fmt.Sprintf("replica %c signs with a new key", 'A'+i), func() bool {
			st := fmt.Sprintf("rot-%d", i)
			v := oauth2.GenerateVerifier()
			code := e2eCodeFrom(t, br.get(nc.conf.AuthCodeURL(st, oidc.Nonce("n"), oauth2.S256ChallengeOption(v))), redirect, st)
			tok, err := nc.conf.Exchange(ctx, code, oauth2.VerifierOption(v))
			if err != nil {
				t.Fatalf("exchange on %c: %v", 'A'+i, err)
			}
			raw := tok.Extra("id_token").(string)
			if _, err := nc.verifier.Verify(ctx, raw); err != nil {
				t.Fatalf("ID token of %c: %v", 'A'+i, err)
			}
			return slices.Contains(kids, jwtKid(t, raw))
		})
	}

	// 7. The login limit is shared: ten wrong passwords, alternately on A
	// and B, and the eleventh attempt (the right password) is refused by
	// both, as one replica refuses it. (Counted alone, each replica would
	// have seen five.)
	lb.alternate()
	other := newE2EBrowser(t, base)
	page = other.get(nc.conf.AuthCodeURL("limit", oidc.Nonce("n"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	page.want(http.StatusOK, `name="password"`)
	for i := range 10 {
		lb.pin(i % 2)
		page = other.login(page, username, "pas le bon mot de passe")
		if page.status == http.StatusTooManyRequests || !strings.Contains(page.body, `name="password"`) {
			t.Fatalf("wrong password %d of 10 (on %c): %d, want the form again\n%.600s", i+1, 'A'+i%2, page.status, page.body)
		}
	}
	for i := range 2 {
		lb.pin(i)
		limited := other.login(page, username, e2ePassword)
		if limited.status != http.StatusTooManyRequests {
			t.Fatalf("the 11th attempt on %c: %d, want 429 (limits shared by the replicas)\n%.600s",
				'A'+i, limited.status, limited.body)
		}
	}

	// 8. A spreadsheet import in the browser: the upload and its preview
	// on A, the confirmation on B, which reads the preview (its file
	// sealed) from the database and applies it once.
	e2eRun(t, bin, envA, "structure", "referent", "add", "le-beta", "p0@le-beta.example")
	lb.pin(0)
	var upload bytes.Buffer
	mw := multipart.NewWriter(&upload)
	_ = mw.WriteField("mode", "add")
	fw, _ := mw.CreateFormFile("file", "personnes.csv")
	_, _ = fw.Write([]byte("Courriel;Prénom;Nom\nnina@le-beta.example;Nina;Neuve\n"))
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, base+"/admin/structures/le-beta/import", &upload)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", base)
	page = br.do(req) // the upload's 303 followed to the preview, on A
	page.want(http.StatusOK, "nina@le-beta.example")
	preview := page.url.String()
	if !strings.Contains(preview, "/admin/structures/le-beta/import/") {
		t.Fatalf("the upload ended on %s", preview)
	}
	lb.pin(1)
	br.post(preview+"/confirm", url.Values{}, base).want(http.StatusOK)
	lb.pin(0)
	br.post(preview+"/confirm", url.Values{}, base).want(http.StatusNotFound)
	br.get(base+"/admin/structures/le-beta").want(http.StatusOK, "nina@le-beta.example")

	lb.alternate()
	a.stop()
	b.stop()
	t.Logf("requests per replica: %v", lb.counts())
}

// jwtKid reads the key id in a JWT's header.
func jwtKid(t *testing.T, raw string) string {
	t.Helper()
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// waitFor polls cond until it holds, failing after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

// replicaLB is a load balancer without sticky sessions: each request goes
// to the next replica in turn, or to the one pinned by the test.
type replicaLB struct {
	proxies [2]*httputil.ReverseProxy
	next    atomic.Uint64
	pinned  atomic.Int32 // -1: alternate
	mu      sync.Mutex
	served  [2]int
}

func startReplicaLB(t *testing.T, port, portA, portB int) *replicaLB {
	t.Helper()
	lb := &replicaLB{}
	lb.pinned.Store(-1)
	for i, p := range []int{portA, portB} {
		u, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", p))
		lb.proxies[i] = httputil.NewSingleHostReverseProxy(u)
	}
	srv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: lb, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.ListenAndServe() }()
	t.Cleanup(func() { _ = srv.Close() })
	waitFor(t, 5*time.Second, "the load balancer listens", func() bool {
		code, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
		return code != 0
	})
	return lb
}

func (lb *replicaLB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(lb.pinned.Load())
	if i < 0 {
		i = int(lb.next.Add(1) % 2)
	}
	lb.mu.Lock()
	lb.served[i]++
	lb.mu.Unlock()
	lb.proxies[i].ServeHTTP(w, r)
}

// pin sends every request to replica i (0 is A, 1 is B) until the next
// pin or alternate.
func (lb *replicaLB) pin(i int) { lb.pinned.Store(int32(i)) }

// alternate sends the requests to A and B in turn.
func (lb *replicaLB) alternate() { lb.pinned.Store(-1) }

func (lb *replicaLB) counts() [2]int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.served
}
