package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"sesame/internal/testenv"
)

// The end-to-end tests run the built sesame binary as a hoster would: the
// command line creates a structure, three services and imports a
// spreadsheet; "sesame serve" mails the activation link through a real
// mailpit; the person chooses a password on the activation page; independent
// relying parties (go-oidc and x/oauth2, nothing of sesame's) log them in
// with the code flow, PKCE and a nonce, reach a second service without a
// second login, refresh, and log out, and the back-channel logout token
// reaches the first. Nothing calls a handler directly.

// e2ePassword is the password the imported person chooses.
const e2ePassword = "sept hérissons lisent Proust sous la pluie"

func TestEndToEndSQLite(t *testing.T) {
	t.Parallel()
	endToEnd(t)
}

func TestEndToEndPostgres(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	endToEnd(t, "SESAME_STORE_DRIVER=postgres", "SESAME_STORE_POSTGRES_DSN="+dsn)
}

// endToEnd runs the whole scenario with the extra environment (the store).
func endToEnd(t *testing.T, extraEnv ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mp := testenv.StartMailpit(t)
	bin := buildBinary(t)
	port, rpPort := testenv.FreePort(t), testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ncRedirect := fmt.Sprintf("http://127.0.0.1:%d/cb", rpPort)
	wpRedirect := fmt.Sprintf("http://127.0.0.1:%d/wp/cb", rpPort)
	pkRedirect := fmt.Sprintf("http://127.0.0.1:%d/admin/login.php?oidc", rpPort)
	ncBye := fmt.Sprintf("http://127.0.0.1:%d/bye", rpPort)
	logoutTokens := startE2EBackchannelSink(t, rpPort)
	env := cleanEnv(append([]string{
		"SESAME_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		fmt.Sprintf("SESAME_LISTEN=127.0.0.1:%d", port),
		"SESAME_PUBLIC_URL=" + base,
		"SESAME_JOBS_POLL_INTERVAL=50ms",
		"SESAME_MAIL_DRIVER=smtp",
		"SESAME_MAIL_SMTP_HOST=" + mp.SMTPHost,
		fmt.Sprintf("SESAME_MAIL_SMTP_PORT=%d", mp.SMTPPort),
		"SESAME_MAIL_SMTP_TLS=none",
		"SESAME_MAIL_FROM=sesame <sesame@hoster.example>",
	}, extraEnv...)...)

	// 1. The hoster's command line: the store, a structure, three services,
	// an import.
	e2eRun(t, bin, env, "migrate")
	e2eRun(t, bin, env, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "referente@le-beta.example")
	out := e2eRun(t, bin, env, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud",
		"--url", "https://nc.example", "--redirect-uri", ncRedirect, "--post-logout-uri", ncBye,
		"--backchannel-logout-uri", fmt.Sprintf("http://127.0.0.1:%d/backchannel", rpPort))
	ncID, ncSecret := e2eClientCredentials(t, out)
	if ncID != "le-beta.nextcloud" {
		t.Errorf("nextcloud client id = %q, want le-beta.nextcloud", ncID)
	}
	if want := "--clientid=" + ncID + " --clientsecret=" + ncSecret; !strings.Contains(out, want) {
		t.Errorf("the occ snippet does not carry the client id and secret (%q):\n%s", want, out)
	}
	out = e2eRun(t, bin, env, "service", "add", "le-beta", "wordpress", "--name", "Site web",
		"--url", "https://wp.example", "--redirect-uri", wpRedirect)
	wpID, wpSecret := e2eClientCredentials(t, out)
	out = e2eRun(t, bin, env, "service", "add", "le-beta", "paheko", "--name", "Paheko",
		"--url", "https://paheko.example", "--paheko-category", "Membres", "--redirect-uri", pkRedirect)
	pkID, pkSecret := e2eClientCredentials(t, out)
	report := parseReport(t, e2eRun(t, bin, env, "import", "le-beta",
		filepath.Join("testdata", "e2e_people.csv"), "--format", "json"))
	if report.Summary["create"] != 1 || len(report.Rows) != 1 {
		t.Fatalf("import report: %+v", report)
	}
	row := report.Rows[0]
	if row.Username != "camille.lefevre" || row.Email != "camille.lefevre@le-beta.example" || len(row.Grants) != 2 ||
		row.Grants[0].Service != "nextcloud" || row.Grants[0].Role != "admin" || row.Grants[1].Service != "paheko" {
		t.Fatalf("imported row: %+v", row)
	}
	username, email := row.Username, row.Email

	// 2. The server; the job runner mails the activation link.
	srv := startE2EServer(t, bin, env, base)
	msg := e2eWaitForMail(t, mp, email, "choisissez votre mot de passe", nil)
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/activate/[A-Za-z0-9_-]+`).FindString(msg.Text)
	if link == "" {
		t.Fatalf("no activation link to %s in the email:\n%s", base, msg.Text)
	}
	for _, want := range []string{"Camille", username, "Le Bêta", "Nextcloud", "referente@le-beta.example"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("the activation email lacks %q:\n%s", want, msg.Text)
		}
	}

	// 3. Activation: the page, a cross-origin post and a mismatch refused,
	// then the password.
	b := newE2EBrowser(t, base)
	page := b.get(link)
	page.want(http.StatusOK, "Activer votre compte", username, email, "Nextcloud", `name="confirm"`)
	action := page.formAction(t)
	evil := b.post(action, url.Values{"password": {e2ePassword}, "confirm": {e2ePassword}}, "https://evil.example")
	evil.want(http.StatusForbidden)
	b.post(action, url.Values{"password": {e2ePassword}, "confirm": {e2ePassword + "!"}}, base).
		want(http.StatusUnprocessableEntity, "ne sont pas identiques")
	b.post(action, url.Values{"password": {e2ePassword}, "confirm": {e2ePassword}}, base).
		want(http.StatusOK, "Votre compte est activé", username, `href="https://nc.example"`)
	if again := b.get(link); again.status == http.StatusOK && strings.Contains(again.body, `name="confirm"`) {
		t.Fatalf("the activation link opened the form a second time")
	}
	e2eWaitForMail(t, mp, email, "", []string{msg.ID}) // "your password was changed"

	// 4. The relying party: discovery, code flow with PKCE S256 and nonce.
	nc := newE2ERelyingParty(ctx, t, base, ncID, ncSecret, ncRedirect)
	state, nonce, verifier := "st-"+e2eRandom(t), "n-"+e2eRandom(t), oauth2.GenerateVerifier()
	authURL := nc.conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	page = b.get(authURL)
	page.want(http.StatusOK, `name="password"`, "Nextcloud")
	// A wrong password shows the form again, never a code.
	page = b.login(page, username, e2ePassword+"x")
	if page.location != nil || !strings.Contains(page.body, `name="password"`) {
		t.Fatalf("a wrong password did not show the form again: %d %v\n%.600s", page.status, page.location, page.body)
	}
	page = b.login(page, username, e2ePassword)
	code := e2eCodeFrom(t, page, ncRedirect, state)
	if _, err := nc.conf.Exchange(ctx, code); err == nil {
		t.Fatal("the code was exchanged without its PKCE verifier")
	}
	// Whether that attempt consumed the code is the provider's choice: start
	// again in the same browser, now logged in (single sign-on, no form).
	state, nonce, verifier = "st-"+e2eRandom(t), "n-"+e2eRandom(t), oauth2.GenerateVerifier()
	page = b.get(nc.conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	code = e2eCodeFrom(t, page, ncRedirect, state)
	tok, err := nc.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := nc.verifier.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify the ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("ID token nonce %q, want %q", idt.Nonce, nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		Sub               string   `json:"sub"`
		PreferredUsername string   `json:"preferred_username"`
		Email             string   `json:"email"`
		Name              string   `json:"name"`
		Groups            []string `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Sub == "" || claims.PreferredUsername != username || claims.Email != email ||
		claims.Name != "Camille Lefèvre" || !slices.Contains(claims.Groups, "admin") {
		t.Errorf("ID token claims = %+v, want %s, %s, Camille Lefèvre, groups with admin", claims, username, email)
	}
	ui, err := nc.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uiClaims struct {
		PreferredUsername string   `json:"preferred_username"`
		Groups            []string `json:"groups"`
	}
	if err := ui.Claims(&uiClaims); err != nil {
		t.Fatal(err)
	}
	if ui.Subject != claims.Sub || ui.Email != email || uiClaims.PreferredUsername != username ||
		!slices.Contains(uiClaims.Groups, "admin") {
		t.Errorf("userinfo = %s %s %+v, want the ID token's person", ui.Subject, ui.Email, uiClaims)
	}
	// A replayed code is refused and revokes what it gave (RFC 6749 4.1.2).
	if _, err := nc.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Error("a code was exchanged twice")
	}
	if _, err := nc.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("the access token still works after its code was replayed")
	}

	// 5. WordPress: no grant, so the "no access" page and never a code,
	// whether the person is already logged in or logs in for it.
	wp := newE2ERelyingParty(ctx, t, base, wpID, wpSecret, wpRedirect)
	noAccess := []string{"Site web", "Le Bêta", "referente@le-beta.example"}
	page = b.get(wp.conf.AuthCodeURL("wp-1", oidc.Nonce("n")))
	page.want(http.StatusForbidden, noAccess...)
	fresh := newE2EBrowser(t, base)
	page = fresh.get(wp.conf.AuthCodeURL("wp-2", oidc.Nonce("n")))
	page.want(http.StatusOK, `name="password"`)
	fresh.login(page, email, e2ePassword).want(http.StatusForbidden, noAccess...)

	// 6. Single sign-on, refresh and logout, in the first browser.
	e2eSessionLifecycle(ctx, t, b, base, nc, ncBye, logoutTokens,
		newE2ERelyingParty(ctx, t, base, pkID, pkSecret, pkRedirect))

	// 7. SIGTERM: a clean exit.
	srv.stop()
}

// e2eSessionLifecycle walks a logged-in browser through a second service
// without a second login (Paheko, whose redirect URI has its own query),
// token refresh with rotation and reuse detection, then an RP-initiated
// logout whose back-channel logout token reaches Nextcloud and verifies
// with the provider's published keys.
func e2eSessionLifecycle(ctx context.Context, t *testing.T, b *e2eBrowser, base string, nc *e2eRelyingParty,
	ncBye string, logoutTokens <-chan string, pk *e2eRelyingParty) {
	t.Helper()
	state, nonce, verifier := "st-"+e2eRandom(t), "n-"+e2eRandom(t), oauth2.GenerateVerifier()
	page := b.get(nc.conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	tok, err := nc.conf.Exchange(ctx, e2eCodeFrom(t, page, nc.conf.RedirectURL, state), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idt, err := nc.verifier.Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var ncClaims struct {
		SID string `json:"sid"`
	}
	if err := idt.Claims(&ncClaims); err != nil || ncClaims.SID == "" {
		t.Fatalf("the ID token has no sid (%v)", err)
	}

	// Paheko: no form, and the code is appended to "login.php?oidc" with "&".
	page = b.get(pk.conf.AuthCodeURL("pk-state", oidc.Nonce("pk-nonce")))
	if page.location == nil || !strings.HasPrefix(page.location.String(), pk.conf.RedirectURL+"&code=") {
		t.Fatalf("Paheko's authorization did not come back with a code (single sign-on): %d %v\n%.600s",
			page.status, page.location, page.body)
	}
	pkTok, err := pk.conf.Exchange(ctx, page.location.Query().Get("code"))
	if err != nil {
		t.Fatalf("Paheko's exchange: %v", err)
	}
	pkIDT, err := pk.verifier.Verify(ctx, pkTok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var pkClaims struct {
		SID    string   `json:"sid"`
		Groups []string `json:"groups"`
	}
	if err := pkIDT.Claims(&pkClaims); err != nil || pkClaims.SID != ncClaims.SID || pkIDT.Subject != idt.Subject ||
		!slices.Contains(pkClaims.Groups, "Membres") {
		t.Errorf("Paheko's ID token: sub %s sid %s groups %v; want the Nextcloud session's person and sid %s, group Membres (%v)",
			pkIDT.Subject, pkClaims.SID, pkClaims.Groups, ncClaims.SID, err)
	}

	// Refresh: a new pair each time; the old refresh token used again
	// revokes the whole family.
	refreshed, err := nc.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken || refreshed.AccessToken == tok.AccessToken {
		t.Fatal("the refresh did not rotate the tokens")
	}
	if ridt, err := nc.verifier.Verify(ctx, refreshed.Extra("id_token").(string)); err != nil || ridt.Subject != idt.Subject {
		t.Fatalf("the refreshed ID token: %v", err)
	}
	if _, err := nc.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("a used refresh token worked again")
	}
	if _, err := nc.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); err == nil {
		t.Fatal("after a reuse, the newest refresh token of the family still works")
	}

	// Logout confirmed on sesame's own page (a client that starts a logout
	// with its own ID token as hint gets no back-channel logout: Nextcloud
	// has dropped its session before sending the person, idp's
	// TestInitiatingClientGetsNoBackchannel), back to Nextcloud; then the
	// back-channel logout token reaches Nextcloud.
	page = b.post(base+"/logout", url.Values{"confirm": {"1"}, "client_id": {nc.conf.ClientID},
		"post_logout_redirect_uri": {ncBye}, "state": {"bye"}}, base)
	if page.location == nil || page.location.String() != ncBye+"?state=bye" {
		t.Fatalf("logout ended on %d %v\n%.600s", page.status, page.location, page.body)
	}
	var raw string
	select {
	case raw = <-logoutTokens:
	case <-time.After(15 * time.Second):
		t.Fatal("no back-channel logout token reached Nextcloud within 15 s")
	}
	lt, err := nc.provider.Verifier(&oidc.Config{ClientID: nc.conf.ClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("the logout token does not verify with the provider's keys: %v", err)
	}
	var ltClaims struct {
		SID    string         `json:"sid"`
		Events map[string]any `json:"events"`
		Nonce  *string        `json:"nonce"`
	}
	if err := lt.Claims(&ltClaims); err != nil || lt.Subject != idt.Subject || ltClaims.SID != ncClaims.SID ||
		ltClaims.Events["http://schemas.openid.net/event/backchannel-logout"] == nil || ltClaims.Nonce != nil {
		t.Errorf("logout token: sub %s %+v (%v)", lt.Subject, ltClaims, err)
	}
	select {
	case extra := <-logoutTokens:
		t.Errorf("a second logout token (Paheko registered no back-channel URI): %.80s", extra)
	case <-time.After(300 * time.Millisecond):
	}
	// The session is over: the next authorization asks for the password.
	b.get(nc.conf.AuthCodeURL("after", oidc.Nonce("n"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))).
		want(http.StatusOK, `name="password"`)
	t.Logf("session %s: Paheko without a second login, refresh rotated then revoked on reuse, logout token verified", ncClaims.SID)
}

// startE2EBackchannelSink serves the relying parties' back-channel logout
// endpoint on port and returns the tokens it receives.
func startE2EBackchannelSink(t *testing.T, port int) <-chan string {
	t.Helper()
	tokens := make(chan string, 8)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /backchannel", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("logout_token") == "" {
			http.Error(w, "no logout_token", http.StatusBadRequest)
			return
		}
		tokens <- r.PostForm.Get("logout_token")
	})
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return tokens
}

// e2eRun runs the built binary with env and returns its standard
// output, failing the test on a non-zero exit.
func e2eRun(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sesame %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

var (
	e2eClientIDLine     = regexp.MustCompile(`(?m)OpenID Connect client id (\S+)\.$`)
	e2eClientSecretLine = regexp.MustCompile(`(?m)^Client secret \(shown only now;[^)]*\): (\S+)$`)
)

// e2eClientCredentials reads the client id and the once-shown secret from the
// output of "sesame service add".
func e2eClientCredentials(t *testing.T, out string) (id, secret string) {
	t.Helper()
	m, s := e2eClientIDLine.FindStringSubmatch(out), e2eClientSecretLine.FindStringSubmatch(out)
	if m == nil || s == nil {
		t.Fatalf("service add printed no client id or secret:\n%s", out)
	}
	return m[1], s[1]
}

// e2eServer is a running "sesame serve".
type e2eServer struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan error
	logs *syncBuffer
}

// startE2EServer starts "sesame serve" and waits until /readyz answers 200.
func startE2EServer(t *testing.T, bin string, env []string, base string) *e2eServer {
	t.Helper()
	s := &e2eServer{t: t, cmd: exec.Command(bin, "serve"), done: make(chan error, 1), logs: &syncBuffer{}}
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sesame serve: %v", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("sesame serve logs:\n%s", s.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := get(t, base+"/readyz")
		if code == http.StatusOK {
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("sesame serve exited before being ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 200 (last %d)", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a clean exit with no error logged.
func (s *e2eServer) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("sesame serve did not exit cleanly after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		s.t.Fatal("sesame serve still running 30s after SIGTERM")
	}
	out := s.logs.String()
	if !strings.Contains(out, "stopped cleanly") {
		s.t.Errorf("the logs do not say %q", "stopped cleanly")
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "level=ERROR") {
			s.t.Errorf("error logged: %s", line)
		}
	}
}

// e2eWaitForMail waits (at most 30 s) for a message to addr whose subject
// contains subject, other than the ids in seen, and returns it in full.
func e2eWaitForMail(t *testing.T, mp *testenv.Mailpit, addr, subject string, seen []string) testenv.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, m := range mp.Messages() {
			if slices.Contains(seen, m.ID) || !strings.Contains(m.Subject, subject) {
				continue
			}
			for _, to := range m.To {
				if strings.EqualFold(to.Address, addr) {
					return mp.Message(m.ID)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no email to %s with subject containing %q within 30s (mailpit holds %d messages)",
				addr, subject, len(mp.Messages()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// e2eBrowser is a person's user agent: it keeps cookies and follows redirects
// within sesame, stopping at the first one that leaves it (to a relying
// party's redirect URI).
type e2eBrowser struct {
	t      *testing.T
	client *http.Client
}

// newE2EBrowser is a fresh browser (no cookies) for the sesame at base.
func newE2EBrowser(t *testing.T, base string) *e2eBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(base, "http://")
	return &e2eBrowser{t: t, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != host {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("e2e: more than 10 redirects")
			}
			return nil
		}}}
}

// e2ePage is what the browser ended on.
type e2ePage struct {
	t        *testing.T
	status   int
	body     string
	url      *url.URL // the page's own address, to resolve its form's action
	location *url.URL // set when sesame redirected away
}

func (b *e2eBrowser) do(req *http.Request) e2ePage {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	p := e2ePage{t: b.t, status: resp.StatusCode, body: string(body), url: resp.Request.URL}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if p.location, err = resp.Location(); err != nil {
			b.t.Fatalf("%s %s: redirect without a location: %v", req.Method, req.URL, err)
		}
	}
	return p
}

func (b *e2eBrowser) get(u string) e2ePage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post submits form to u as a browser would from a page of origin.
func (b *e2eBrowser) post(u string, form url.Values, origin string) e2ePage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	return b.do(req)
}

var e2eLoginReqField = regexp.MustCompile(`name="req" value="([^"]+)"`)

// login fills and posts the login form p shows.
func (b *e2eBrowser) login(p e2ePage, username, password string) e2ePage {
	b.t.Helper()
	m := e2eLoginReqField.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("not a login form: %d\n%.600s", p.status, p.body)
	}
	origin := p.url.Scheme + "://" + p.url.Host
	return b.post(p.formAction(b.t), url.Values{"req": {m[1]}, "username": {username}, "password": {password}}, origin)
}

var e2eFormAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)

// formAction is the absolute address p's form posts to.
func (p e2ePage) formAction(t *testing.T) string {
	t.Helper()
	m := e2eFormAction.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form on the page: %d\n%.600s", p.status, p.body)
	}
	ref, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	if err != nil {
		t.Fatalf("form action %q: %v", m[1], err)
	}
	return p.url.ResolveReference(ref).String()
}

// want checks the page's status and that its body contains every string.
func (p e2ePage) want(status int, contains ...string) {
	p.t.Helper()
	if p.status != status {
		p.t.Fatalf("page %s: status %d, want %d (redirect %v)\n%.1000s", p.url, p.status, status, p.location, p.body)
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			p.t.Errorf("page %s lacks %q:\n%.1000s", p.url, s, p.body)
		}
	}
}

// e2eCodeFrom checks that p is a redirect to the relying party's redirect URI
// with state and no error, and returns the code.
func e2eCodeFrom(t *testing.T, p e2ePage, redirect, state string) string {
	t.Helper()
	if p.location == nil {
		t.Fatalf("no redirect to the relying party: %d on %s\n%.600s", p.status, p.url, p.body)
	}
	got := *p.location
	got.RawQuery = ""
	if got.String() != redirect {
		t.Fatalf("redirected to %s, want %s", p.location, redirect)
	}
	q := p.location.Query()
	if q.Get("error") != "" || q.Get("code") == "" || q.Get("state") != state {
		t.Fatalf("redirect %s: want a code and state %q", p.location, state)
	}
	return q.Get("code")
}

// e2eRelyingParty is an independent OpenID Connect client: go-oidc for
// discovery and verification, x/oauth2 for the code exchange, with
// client_secret_post as Nextcloud and WordPress use.
type e2eRelyingParty struct {
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// newE2ERelyingParty discovers issuer and configures the client.
func newE2ERelyingParty(ctx context.Context, t *testing.T, issuer, clientID, secret, redirect string) *e2eRelyingParty {
	t.Helper()
	prov, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery at %s: %v", issuer, err)
	}
	ep := prov.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &e2eRelyingParty{provider: prov,
		conf: oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: ep, RedirectURL: redirect,
			Scopes: []string{oidc.ScopeOpenID, "email", "profile"}},
		verifier: prov.Verifier(&oidc.Config{ClientID: clientID})}
}

// e2eRandom is a fresh random value for a state or nonce.
func e2eRandom(t *testing.T) string {
	t.Helper()
	return oauth2.GenerateVerifier()[:16]
}
