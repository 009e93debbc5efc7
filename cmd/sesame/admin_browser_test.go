package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"sesame/internal/testenv"
)

// TestBrowserAdminJourney is issue 12's journey in Debian's headless
// Chromium, against the built binary (SQLite, mail through a real
// mailpit): a hoster admin made by "sesame admin add" activates from the
// email, signs in at /signin, creates a structure and a generic (OpenID
// Connect) service with the relying party's redirect address on the
// administration pages, uploads a spreadsheet
// with an invalid address, sees the error on its row, uploads the fixed
// file and confirms. In another browser (its own profile) the person
// activates from the email, lands on the portal, signs in, changes the
// password, and logs in to the service (single sign-on): an independent
// relying party (go-oidc, x/oauth2) that verifies the ID token and shows
// the email; signed out, the service's login refuses the old password and
// takes the new one.
// axe-core runs on every page (no violation of any impact); a screenshot
// of each step goes to the folder the test prints, kept when it fails
// (or with SESAME_KEEP_SCREENSHOTS=1).
func TestBrowserAdminJourney(t *testing.T) {
	axe := testenv.AxeCore(t)
	if _, err := os.Stat(testenv.ChromiumPath); err != nil {
		testenv.Missing(t, "chromium: %v", err)
	}
	mp := testenv.StartMailpit(t)
	shots := journeyScreenshots(t)
	bin := buildBinary(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	port := testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := cleanEnv(
		"SESAME_DATA_DIR="+dataDir,
		fmt.Sprintf("SESAME_LISTEN=127.0.0.1:%d", port),
		"SESAME_PUBLIC_URL="+base,
		"SESAME_JOBS_POLL_INTERVAL=50ms",
		"SESAME_MAIL_DRIVER=smtp",
		"SESAME_MAIL_SMTP_HOST="+mp.SMTPHost,
		fmt.Sprintf("SESAME_MAIL_SMTP_PORT=%d", mp.SMTPPort),
		"SESAME_MAIL_SMTP_TLS=none",
		"SESAME_MAIL_FROM=sesame <sesame@hoster.example>",
	)
	const (
		adminEmail  = "root@hoster.example"
		personEmail = "zoe@legamma.example"
		adminPW     = "le grand phare veille sur la baie 17"
		personPW    = "sept hérissons lisent Proust sous la pluie"
		personPW2   = "trois loutres jouent aux échecs le mardi"
	)
	e2eRun(t, bin, env, "migrate")
	e2eRun(t, bin, env, "admin", "add", adminEmail)
	rp := startJourneyRP(t, base)
	srv := startE2EServer(t, bin, env, base)
	activation := regexp.MustCompile(regexp.QuoteMeta(base) + `/activate/[A-Za-z0-9_-]+`)

	// The admin's browser.
	steps := new(int)
	admin := journeyBrowser(t, axe, shots, "admin", steps)
	msg := e2eWaitForMail(t, mp, adminEmail, "", nil)
	link := activation.FindString(msg.Text)
	if link == "" {
		t.Fatalf("no activation link in the admin's email:\n%s", msg.Text)
	}
	admin.open("activation", link, "#password")
	admin.typeIn("#password", adminPW)
	admin.typeIn("#confirm", adminPW)
	admin.submit("activated", "button[type=submit]", ".success")

	admin.open("signin", base+"/admin", "#username")
	if u := admin.eval(`location.pathname + location.search`); !strings.HasPrefix(u, "/signin?next=") {
		t.Errorf("/admin sends to %q, want the sign-in page", u)
	}
	admin.typeIn("#username", adminEmail)
	admin.typeIn("#password", adminPW)
	// Hoster admins must use a second factor: the first sign-in walks
	// through enrolling an authenticator app (the QR code's key typed by
	// hand here), shows the recovery codes once, and goes on.
	admin.submit("mfa-enrol", "form.form button[type=submit]", "code.secret")
	key := strings.ReplaceAll(admin.eval(`document.querySelector('code.secret').textContent`), " ", "")
	admin.typeIn("#code", totpNow(t, key))
	admin.typeIn("#name", "Téléphone de root")
	admin.submit("mfa-codes", "form.enrol button[type=submit]", "ul.codes")
	if n := admin.eval(`String(document.querySelectorAll('ul.codes li').length)`); n != "10" {
		t.Fatalf("%s recovery codes shown, want 10", n)
	}
	admin.submit("structures", "form.form button[type=submit]", "#slug")

	// A structure, then its generic service pointing at the relying party.
	admin.typeIn("#slug", "le-gamma")
	admin.typeIn("#name", "Le Gamma")
	admin.typeIn("#contact", "contact@legamma.example")
	admin.submit("structure-created", `form[action="/admin/structures"] button[type=submit]`, ".success[role=status]")
	if p := admin.eval(`location.pathname`); p != "/admin/structures/le-gamma" {
		t.Fatalf("after creating the structure: %s", p)
	}
	admin.submit("services", `nav.tabs a[href$="/services"]`, "#kind")
	admin.setValue("#kind", "generic")
	admin.typeIn("#name", "Appli du Gamma")
	admin.typeIn("#url", rp.srv.URL)
	admin.typeIn("#redirect", rp.redirect())
	admin.submit("service-created", `form[action$="/services"] button[type=submit]`, ".secret")
	clientID := strings.TrimSpace(admin.eval(`document.querySelector('dl.facts dd.mono').textContent`))
	secret := strings.TrimSpace(admin.eval(`document.querySelector('.secret').textContent`))
	if clientID != "le-gamma.generic" || secret == "" {
		t.Fatalf("client id %q, secret %q", clientID, secret)
	}
	if setup := admin.eval(`document.querySelector('pre.setup').textContent`); !strings.Contains(setup, rp.redirect()) {
		t.Errorf("the setup to paste lacks the redirect address:\n%s", setup)
	}
	rp.setClient(clientID, secret)

	// The spreadsheet: an invalid address on row 3, shown on its row; then
	// the fixed file, confirmed.
	dir := t.TempDir()
	withError, fixed := filepath.Join(dir, "avec-erreur.csv"), filepath.Join(dir, "corrige.csv")
	const header = "Prénom;Nom;Courriel;Droits\n"
	writeFile(t, withError, header+"Élodie;Lefèvre;elodie@legamma.example;generic\nZoé;Castaño;pas-une-adresse;generic\n")
	writeFile(t, fixed, header+"Élodie;Lefèvre;elodie@legamma.example;generic\nZoé;Castaño;"+personEmail+";generic\n")
	admin.submit("import-form", `nav.tabs a[href$="/import"]`, "#file")
	admin.upload("#file", withError)
	admin.submit("preview-error", `form[enctype] button[type=submit]`, "table.preview")
	row := admin.eval(`(document.querySelector('tr.act-error') || {textContent: ''}).textContent`)
	if !strings.Contains(row, "3") || !strings.Contains(row, "pas-une-adresse") || !strings.Contains(row, "n'est pas valide") {
		t.Errorf("the error is not on its row: %q", row)
	}
	admin.open("import-form-again", base+"/admin/structures/le-gamma/import", "#file")
	admin.upload("#file", fixed)
	admin.submit("preview-fixed", `form[enctype] button[type=submit]`, "table.preview")
	if n := admin.eval(`String(document.querySelectorAll('tr.act-error').length)`); n != "0" {
		t.Errorf("%s error rows in the fixed file's preview", n)
	}
	if n := admin.eval(`String(document.querySelectorAll('tr.act-create').length)`); n != "2" {
		t.Errorf("%s rows to create in the fixed file's preview, want 2", n)
	}
	admin.submit("import-done", `form[action$="/confirm"] button`, ".success[role=status]")
	admin.submit("board", `a[href="/admin/structures/le-gamma"]`, "h1")
	if board := admin.eval(`document.body.textContent`); !strings.Contains(board, personEmail) {
		t.Errorf("the board does not list %s", personEmail)
	}

	// The person, in a browser of their own.
	person := journeyBrowser(t, axe, shots, "person", steps)
	msg = e2eWaitForMail(t, mp, personEmail, "", nil)
	link = activation.FindString(msg.Text)
	if link == "" {
		t.Fatalf("no activation link in the person's email:\n%s", msg.Text)
	}
	person.open("activation", link, "#password")
	person.typeIn("#password", personPW)
	person.typeIn("#confirm", personPW)
	person.submit("activated", "button[type=submit]", ".success")
	person.open("portal-signed-out", base+"/", `a[href^="/signin"]`)
	person.submit("signin", `a[href^="/signin"]`, "#username")
	person.typeIn("#username", personEmail)
	person.typeIn("#password", personPW)
	person.submit("portal", "form.form button[type=submit]", "#current")
	if p := person.eval(`location.pathname`); p != "/" {
		t.Errorf("signed in on %s, want the portal", p)
	}
	person.typeIn("#current", personPW)
	person.typeIn("#password", personPW2)
	person.typeIn("#confirm", personPW2)
	person.submit("password-changed", `form[action="/account/password"] button[type=submit]`, ".success[role=status]")

	// The service, from the portal: the relying party's page, then its
	// login, single sign-on with the portal's session.
	person.submit("service", fmt.Sprintf(`a[href^=%q]`, rp.srv.URL), "#login")
	person.submit("service-logged-in", "#login", "#email")
	if got := strings.TrimSpace(person.eval(`document.querySelector('#email').textContent`)); got != personEmail {
		t.Errorf("the relying party shows %q, want %q", got, personEmail)
	}
	// Signed out, the service's login asks for the password: the old one
	// is refused, the new one logs in.
	person.open("portal-again", base+"/", `form[action="/account/signout"] button`)
	person.submit("signed-out", `form[action="/account/signout"] button`, `a[href^="/signin"]`)
	person.open("service-login", rp.srv.URL+"/login", "#username")
	person.setValue("#username", personEmail)
	person.typeIn("#password", personPW)
	person.submit("old-password-refused", "form.form button[type=submit]", "p.alert[role=alert]")
	person.setValue("#username", personEmail)
	person.typeIn("#password", personPW2)
	person.submit("service-logged-in-again", "form.form button[type=submit]", "#email")
	if got := strings.TrimSpace(person.eval(`document.querySelector('#email').textContent`)); got != personEmail {
		t.Errorf("the relying party shows %q after the login form, want %q", got, personEmail)
	}
	srv.stop()
}

// journeyScreenshots makes the folder of the journey's screenshots, prints
// its path, and removes it when the test passes (unless
// SESAME_KEEP_SCREENSHOTS=1).
func journeyScreenshots(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sesame-journey-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", dir)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("SESAME_KEEP_SCREENSHOTS") == "1" {
			t.Logf("screenshots kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return dir
}

// journeyTab is one browser (its own Chromium and profile) of the journey.
type journeyTab struct {
	t     *testing.T
	ctx   context.Context
	axe   string
	dir   string
	who   string
	steps *int
}

// journeyBrowser starts a French-speaking headless Chromium at 320 px
// with a fresh profile, for who (the prefix of its screenshots).
// steps counts the screenshots of every browser of the test.
func journeyBrowser(t *testing.T, axe, dir, who string, steps *int) *journeyTab {
	t.Helper()
	ctx := testenv.Chromium(t, 4*time.Minute)
	return &journeyTab{t: t, ctx: ctx, axe: axe, dir: dir, who: who, steps: steps}
}

// eval returns the value of a JavaScript expression as a string.
func (b *journeyTab) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.who, js, err)
	}
	return v
}

func (b *journeyTab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.who, what, err)
	}
}

func (b *journeyTab) typeIn(sel, text string) {
	b.t.Helper()
	b.do("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (b *journeyTab) setValue(sel, value string) {
	b.t.Helper()
	b.do("choose "+value+" in "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
}

func (b *journeyTab) upload(sel, path string) {
	b.t.Helper()
	b.do("upload "+path, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path}))
}

// open goes to u, waits for want, and checks the page as step name.
func (b *journeyTab) open(name, u, want string) {
	b.t.Helper()
	b.do("open "+u, chromedp.Navigate(u))
	b.landed(name, want)
}

// submit clicks sel (a button or a link), waits until another document
// (even at the same address) has loaded and shows want, and checks it as
// step name.
func (b *journeyTab) submit(name, sel, want string) {
	b.t.Helper()
	b.eval(`window.__journeyOld = 'yes'`)
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	for deadline := time.Now().Add(30 * time.Second); ; {
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(window.__journeyOld || '') + ' ' + document.readyState`))
		if err == nil && v == " complete" {
			break
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: after clicking %s the page did not change (%q, %v)", b.who, sel, v, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.landed(name, want)
}

// landed waits for want on the page, then runs axe-core on it (no
// violation of any impact) and saves its screenshot.
func (b *journeyTab) landed(name, want string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(want))); err != nil {
		b.shoot(name + "-FAILED")
		b.t.Fatalf("%s, %s: %s not shown on %s: %v", b.who, name, want, b.eval(`location.href`), err)
	}
	for i := 0; b.eval(`document.readyState`) != "complete"; i++ {
		if i == 200 {
			b.t.Fatalf("%s, %s: the page does not finish loading", b.who, name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.shoot(name)
	vs, err := testenv.Axe(b.ctx, b.axe)
	if err != nil {
		b.t.Fatalf("%s, %s: axe-core: %v", b.who, name, err)
	}
	for _, v := range vs {
		b.t.Errorf("%s, %s (%s): axe-core: %s (%s): %s on %v", b.who, name, b.eval(`location.pathname`), v.ID, v.Impact, v.Help, v.Nodes)
	}
}

// shoot saves the page's screenshot as the journey's next step.
func (b *journeyTab) shoot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("%s, %s: screenshot: %v", b.who, name, err)
		return
	}
	*b.steps++
	file := filepath.Join(b.dir, fmt.Sprintf("%02d-%s-%s.png", *b.steps, b.who, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Errorf("screenshot: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// journeyRP is an independent OpenID Connect relying party (go-oidc for
// discovery and the ID token, x/oauth2 for the code flow with PKCE and a
// nonce): "/" offers to log in, "/login" goes to sesame, "/cb" verifies
// the ID token and shows the email.
type journeyRP struct {
	t      *testing.T
	issuer string
	srv    *httptest.Server

	mu       sync.Mutex
	clientID string
	secret   string
	pending  map[string][2]string // state → nonce, PKCE verifier
}

func startJourneyRP(t *testing.T, issuer string) *journeyRP {
	rp := &journeyRP{t: t, issuer: issuer, pending: map[string][2]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		rpPage(w, http.StatusOK, "Appli du Gamma", `<p><a id="login" href="/login">Se connecter avec sesame</a></p>`)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		conf, _, err := rp.config(r.Context())
		if err != nil {
			rpPage(w, http.StatusBadGateway, "Erreur", "<p>"+html.EscapeString(err.Error())+"</p>")
			return
		}
		state, nonce, verifier := e2eRandom(t), e2eRandom(t), oauth2.GenerateVerifier()
		rp.mu.Lock()
		rp.pending[state] = [2]string{nonce, verifier}
		rp.mu.Unlock()
		http.Redirect(w, r, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
	})
	mux.HandleFunc("GET /cb", func(w http.ResponseWriter, r *http.Request) {
		fail := func(format string, args ...any) {
			msg := fmt.Sprintf(format, args...)
			t.Errorf("relying party: %s", msg)
			rpPage(w, http.StatusBadRequest, "Erreur", "<p>"+html.EscapeString(msg)+"</p>")
		}
		q := r.URL.Query()
		rp.mu.Lock()
		p, ok := rp.pending[q.Get("state")]
		delete(rp.pending, q.Get("state"))
		rp.mu.Unlock()
		if !ok || q.Get("code") == "" {
			fail("callback without a known state or a code: %s", r.URL.RawQuery)
			return
		}
		conf, verifier, err := rp.config(r.Context())
		if err != nil {
			fail("%v", err)
			return
		}
		tok, err := conf.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(p[1]))
		if err != nil {
			fail("code exchange: %v", err)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := verifier.Verify(r.Context(), raw)
		if err != nil {
			fail("ID token: %v", err)
			return
		}
		var claims struct {
			Email string `json:"email"`
		}
		if err := idt.Claims(&claims); err != nil || idt.Nonce != p[0] {
			fail("claims %v, nonce %q (want %q)", err, idt.Nonce, p[0])
			return
		}
		rpPage(w, http.StatusOK, "Connecté", `<p>Connecté en tant que <span id="email">`+html.EscapeString(claims.Email)+`</span></p>`)
	})
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *journeyRP) redirect() string { return rp.srv.URL + "/cb" }

func (rp *journeyRP) setClient(id, secret string) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.clientID, rp.secret = id, secret
}

// config discovers sesame and returns the client's configuration
// (client_secret_basic, the generic kind's) and ID token verifier.
func (rp *journeyRP) config(ctx context.Context) (oauth2.Config, *oidc.IDTokenVerifier, error) {
	rp.mu.Lock()
	id, secret := rp.clientID, rp.secret
	rp.mu.Unlock()
	prov, err := oidc.NewProvider(ctx, rp.issuer)
	if err != nil {
		return oauth2.Config{}, nil, fmt.Errorf("discovery: %w", err)
	}
	ep := prov.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	return oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: ep, RedirectURL: rp.redirect(),
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, prov.Verifier(&oidc.Config{ClientID: id}), nil
}

// rpPage writes one accessible page of the relying party.
func rpPage(w http.ResponseWriter, code int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, `<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>%s</title></head><body><main><h1>%s</h1>%s</main></body></html>`,
		html.EscapeString(title), html.EscapeString(title), body)
}
