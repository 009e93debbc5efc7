package idp

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// getLang is b.get with an Accept-Language header.
func (b *browser) getLang(u, lang string) result {
	b.f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept-Language", lang)
	return b.do(req)
}

// mustHave checks that a page holds every want and none of the unwanted.
func mustHave(t *testing.T, what string, res result, want []string, unwanted ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(res.body, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, res.body)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(res.body, u) {
			t.Errorf("%s holds %q:\n%s", what, u, res.body)
		}
	}
}

// The login page is in the person's language only (no longer both stacked),
// in the shared layout: the structure's name in the header bar, the
// language switch to the same login request, the way back to the service
// and the structure's contact; its CSP lets the form's answer go to the
// service (and, for WordPress, to the site's own login page).
func TestLoginPageInOneLanguage(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	fr := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect)))
	req := reqField.FindStringSubmatch(fr.body)
	if !fr.isLoginForm() || req == nil {
		t.Fatalf("no login form: %d %s", fr.status, fr.body)
	}
	mustHave(t, "the French login page", fr, []string{`<html lang="fr">`, "<h1>Connexion à Appli</h1>", "Identifiant ou adresse e-mail",
		`<span class="structure">Le Bêta</span>`, `href="/login?lang=en&amp;req=` + req[1] + `"`, `href="https://app.example"`,
		"Retour à Appli", `href="mailto:referente@lebeta.example"`, `href="forgot"`, `<link rel="stylesheet" href="/static/style.css">`},
		"Log in", "Username or email", "(username or email)", "Password", `class="en"`, "<style")

	// A wrong password, in one language.
	bad := b.login(fr, "alice.martin", "wrong")
	wantPage(t, bad, http.StatusUnauthorized, "Identifiant ou mot de passe incorrect.")
	mustHave(t, "the refused login", bad, []string{`href="/login?lang=en&amp;req=` + req[1] + `"`}, "Wrong username")

	en := b.getLang(f.authURL(authParams(f.gen.ClientID, genRedirect)), "en-GB,en;q=0.8")
	mustHave(t, "the English login page", en, []string{`<html lang="en">`, "<h1>Log in to Appli</h1>", "Username or email address",
		"Back to Appli"}, "Connexion", "Identifiant", "Mot de passe")

	// The switch shows the same request's form, in the other language.
	sw := b.get(f.issuer + "/login?lang=en&req=" + req[1])
	mustHave(t, "the switched login page", sw, []string{`<html lang="en">`, `name="req" value="` + req[1] + `"`})
	// The choice is remembered: the next refusal is in English.
	bad = b.login(fr, "alice.martin", "wrong")
	wantPage(t, bad, http.StatusUnauthorized, "Wrong username or password.")
	mustHave(t, "the refused login in English", bad, nil, "incorrect")
}

// cspOf returns the Content-Security-Policy of a GET of u.
func cspOf(t *testing.T, b *browser, u string) string {
	t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Content-Security-Policy")
}

// The login form is answered by a redirect to the service (and, for
// WordPress, sometimes to the site's own login page): its page's CSP
// allows exactly those origins in form-action; other pages only sesame.
func TestLoginPageFormAction(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	for _, c := range []struct {
		name, clientID, redirect, want string
	}{
		{"generic", f.gen.ClientID, genRedirect, "form-action 'self' https://app.example;"},
		{"wordpress", f.wp.ClientID, wpRedirect, "form-action 'self' https://wp.example https://wordpress.example;"},
	} {
		if got := cspOf(t, b, f.authURL(authParams(c.clientID, c.redirect))); !strings.Contains(got, c.want) ||
			strings.Contains(got, "unsafe-inline") || !strings.Contains(got, "frame-ancestors 'none'") {
			t.Errorf("%s: the login page's CSP %q, want %q", c.name, got, c.want)
		}
	}
	// Other pages allow forms to sesame only.
	if got := cspOf(t, b, f.issuer+"/authorize?client_id=nope"); !strings.Contains(got, "form-action 'self';") {
		t.Errorf("an error page's CSP %q", got)
	}
}

var switchLink = regexp.MustCompile(`href="([^"]*prompt=login[^"]*)"`)

// The no-access page offers another account: its link makes the same
// authorization request with prompt=login, and the code that ends it goes
// to the client with the client's own state, redeemable with the client's
// PKCE verifier. The person who had no access is logged out of this
// browser.
func TestNoAccessSwitchAccount(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	verifier, challenge := pkce()
	v := authParams(f.gen.ClientID, genRedirect, "code_challenge", challenge, "code_challenge_method", "S256", "nonce", "n-42")
	res := b.login(b.get(f.authURL(v)), "bob.durand", testPassword)
	wantPage(t, res, http.StatusForbidden, "avez pas accès au service Appli de Le Bêta")
	mustHave(t, "the no-access page", res, []string{"bob.durand", `href="https://app.example"`, "Retour à Appli",
		`href="mailto:referente@lebeta.example"`, "Se connecter avec un autre compte", `<span class="structure">Le Bêta</span>`})
	m := switchLink.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no link to another account:\n%s", res.body)
	}
	form := b.get(f.issuer + html.UnescapeString(m[1]))
	if !form.isLoginForm() {
		t.Fatalf("the other-account link does not ask for a password: %d %v %.300s", form.status, form.location, form.body)
	}
	code := f.codeFrom(b.login(form, "alice.martin", testPassword), genRedirect, v.Get("state"))
	st, body := f.exchange(f.gen, secretGen, code, genRedirect, verifier)
	if st != http.StatusOK {
		t.Fatalf("exchange: %d %s", st, fmtJSON(body))
	}
	if c := idClaims(t, body); c["sub"] != f.alice.ID || c["nonce"] != "n-42" {
		t.Errorf("the ID token after the switch: %v", c)
	}
	// The browser's session is alice's now: bob's request is answered for
	// her at once.
	res = b.get(f.authURL(authParams(f.gen.ClientID, genRedirect)))
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("no session after the switch: %d %v", res.status, res.location)
	}
}

// Every error page of the provider offers a way onward: sesame's own pages
// always, and when the service is known the way back to it, its
// structure's name and contact.
func TestProviderErrorPagesHaveAWayOnward(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	form := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect)))
	req := reqField.FindStringSubmatch(form.body)
	if req == nil {
		t.Fatal("no login form")
	}
	crossSite := func() result {
		r, _ := http.NewRequest(http.MethodPost, f.issuer+"/login", strings.NewReader(url.Values{"req": {req[1]}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		return b.do(r)
	}
	malformed := func(path string) result {
		r, _ := http.NewRequest(http.MethodPost, f.issuer+path, strings.NewReader("client_id=%zz"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return b.do(r)
	}
	for _, c := range []struct {
		name    string
		res     result
		status  int
		service bool // the page knows the service
	}{
		{"unknown client", b.get(f.issuer + "/authorize?client_id=nope"), 400, false},
		{"unregistered redirect URI", b.get(f.authURL(authParams(f.gen.ClientID, "https://evil.example/cb"))), 400, true},
		{"unknown login request", b.get(f.issuer + "/login?req=nope"), 400, false},
		{"login request of another browser", f.browser().get(f.issuer + "/login?req=" + req[1]), 400, true},
		{"cross-site login form", crossSite(), 403, false},
		{"malformed authorization", malformed("/authorize"), 400, false},
		{"malformed login form", malformed("/login"), 400, false},
		{"query too long", b.get(f.issuer + "/authorize?x=" + strings.Repeat("a", 70<<10)), 414, false},
		{"foreign logout hint", b.get(f.issuer + "/logout?id_token_hint=x.y.z"), 400, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.res.status != c.status || c.res.location != nil {
				t.Fatalf("%d %v, want %d:\n%.500s", c.res.status, c.res.location, c.status, c.res.body)
			}
			mustHave(t, c.name, c.res, []string{`<html lang="fr">`, `<nav class="langs"`, `href="/"`, `href="/forgot"`})
			if c.service {
				mustHave(t, c.name, c.res, []string{`href="https://app.example"`, `href="mailto:referente@lebeta.example"`,
					`<span class="structure">Le Bêta</span>`})
			}
		})
	}
}

var langSwitch = regexp.MustCompile(`<a class="lang" href="([^"]+)" hreflang="en"`)

// The logged-out page's language switch shows the logged-out page again,
// in the other language, with the way back to the service: it repeats
// neither the logout's ID token nor its return address, and it ends
// nothing more.
func TestLoggedOutLanguageSwitch(t *testing.T) {
	f := newFixture(t)
	s := f.wpSession(t)
	f.clock.Advance(2 * time.Hour)
	res := f.wordPressLogout(s.b, s.wpIDTok, f.wp.BaseURL+"/membres/", false)
	wantPage(t, res, http.StatusOK, "Vous êtes déconnecté·e")
	m := langSwitch.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no language switch:\n%s", res.body)
	}
	link := html.UnescapeString(m[1])
	if strings.Contains(link, s.wpIDTok) || strings.Contains(link, "membres") || link != "/logout?lang=en&client_id="+f.wp.ClientID {
		t.Errorf("the switch link %q", link)
	}
	en := s.b.get(f.issuer + link)
	wantPage(t, en, http.StatusOK, "You are logged out")
	mustHave(t, "the logged-out page in English", en, []string{`<a href="` + f.wp.BaseURL + `">Back to WordPress</a>`,
		`<span class="structure">Le Bêta</span>`}, "déconnecté")

	// Without a known service: the way to sesame's home.
	home := f.browser().get(f.issuer + "/logout")
	wantPage(t, home, http.StatusOK, "Vous êtes déconnecté·e")
	mustHave(t, "the logged-out page without a service", home, []string{`<a href="/">`})
}
