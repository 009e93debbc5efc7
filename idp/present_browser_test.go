package idp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sesame/internal/jobs"
	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/internal/testenv"
	"sesame/onboarding"
	"sesame/web"
)

// withAccountPages mounts the account pages and the static files on the
// fixture's server, on the provider's renderer, as cmd/sesame does: one
// server, one renderer. It returns the path of an activation link for
// dave (invited).
func (f *fixture) withAccountPages(t *testing.T) string {
	t.Helper()
	mux, ok := f.srv.Config.Handler.(*http.ServeMux)
	if !ok {
		t.Fatal("the fixture's handler is not a ServeMux")
	}
	tokens := &onboarding.Tokens{Key: []byte("0123456789abcdef0123456789abcdef-test-key"), Now: f.clock.Now}
	(&web.Account{Store: f.st, Tokens: tokens, Hasher: f.hasher, Policy: password.DefaultPolicy(), Renderer: f.p.rd,
		Sessions: f.p, PublicURL: f.issuer, Now: f.clock.Now, Logger: f.cfg.Logger}).Mount(mux)
	web.StaticHandler{}.Mount(mux)

	ctx := context.Background()
	if err := f.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tokens.Issue(ctx, tx, f.dave.ID, f.structure.ID, store.PurposeActivate)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	js, err := f.st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindMailActivate, Limit: 10})
	if err != nil || len(js) != 1 {
		t.Fatalf("activation job: %v %d", err, len(js))
	}
	var m jobs.TokenMail
	if err := json.Unmarshal(js[0].Payload, &m); err != nil {
		t.Fatal(err)
	}
	return "/activate/" + tokens.Secret(m.Nonce)
}

// header is what a page's header bar shows, read in the browser.
type header struct {
	Lang      string   `json:"lang"`      // <html lang>
	Brand     string   `json:"brand"`     // sesame's name and the structure's
	Structure string   `json:"structure"` // the structure's name alone
	Current   string   `json:"current"`   // the language marked current in the switch
	Links     []string `json:"links"`     // the switch's links (absolute)
	Labels    string   `json:"labels"`    // what the switch shows: "FR EN"
	Width     int      `json:"width"`     // the page's scroll width
	Styled    bool     `json:"styled"`    // the style sheet applied to the bar
	H1        string   `json:"h1"`
}

const readHeader = `(() => {
  const q = s => document.querySelector(s);
  const bar = q('header.top');
  return {
    lang: document.documentElement.lang,
    brand: (q('header.top .brand') || {}).textContent || '',
    structure: (q('header.top .structure') || {}).textContent || '',
    current: (q('nav.langs [aria-current="true"]') || {}).lang || '',
    links: [...document.querySelectorAll('nav.langs a')].map(a => a.href),
    labels: [...document.querySelectorAll('nav.langs li [aria-hidden="true"]')].map(e => e.textContent.trim()).join(' '),
    width: document.documentElement.scrollWidth,
    styled: !!bar && getComputedStyle(bar).display === 'flex',
    h1: (q('h1') || {}).textContent || '',
  };
})()`

// checkPage checks the page the browser shows: the shared header bar in
// lang (sesame's name, the structure's when it is known, the FR | EN
// switch whose other language links to this very address), no horizontal
// scrolling at 320 px, and no accessibility violation of any impact. It
// returns the header for comparisons between pages.
func checkPage(t *testing.T, ctx context.Context, axe, name, lang, structure string) header {
	t.Helper()
	h, err := chromedp.Run(ctx, chromedp.Evaluate[header](readHeader))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	if err != nil {
		t.Fatal(err)
	}
	if h.Lang != lang || h.Current != lang || h.Labels != "FR EN" || !h.Styled {
		t.Errorf("%s: the header bar is not the shared one in %s: %+v", name, lang, h)
	}
	if !strings.HasPrefix(h.Brand, "Sesame") || h.Structure != structure {
		t.Errorf("%s: brand %q, structure %q; want sesame's name and %q", name, h.Brand, h.Structure, structure)
	}
	if len(h.Links) != 1 {
		t.Errorf("%s: the switch has %d links, want one (the other language)", name, len(h.Links))
	} else if !sameAddress(h.Links[0], loc) {
		t.Errorf("%s: the switch goes to %s, not to this page (%s)", name, h.Links[0], loc)
	}
	if h.Width > 320 {
		t.Errorf("%s is %d px wide at a 320 px viewport", name, h.Width)
	}
	vs, err := testenv.Axe(ctx, axe)
	if err != nil {
		t.Fatalf("%s: axe-core: %v", name, err)
	}
	for _, v := range vs {
		t.Errorf("%s (%s): axe-core: %s (%s): %s on %v", name, lang, v.ID, v.Impact, v.Help, v.Nodes)
	}
	testenv.Screenshot(t, ctx, name+"-"+lang+"-320")
	return h
}

// sameAddress reports whether the switch link sw leads to the page at loc:
// the same path, and every parameter of loc but lang with the same value
// (a login page's switch names its request rather than the authorization
// it came from, and the no-access page shown after the login form names
// the authorization).
func sameAddress(sw, loc string) bool {
	a, err1 := url.Parse(sw)
	b, err2 := url.Parse(loc)
	if err1 != nil || err2 != nil || a.Host != b.Host {
		return false
	}
	switch {
	case b.Path == "/authorize" && a.Path == "/login":
		return a.Query().Get("req") != "" // the login form of the request just made
	case b.Path == "/login" && a.Path == "/authorize":
		return a.Query().Get("client_id") != "" // the no-access page shown after the form
	}
	if a.Path != b.Path {
		return false
	}
	qa, qb := a.Query(), b.Query()
	qa.Del("lang")
	qb.Del("lang")
	return qa.Encode() == qb.Encode()
}

// TestBrowserOnePresentation walks the provider's pages and the account
// pages in Chromium at 320 px, in French then in English: every page has
// the same header bar (sesame's name, the structure's name where the page
// knows it, the FR | EN switch to this very page) and axe-core finds no
// violation of any impact on the login, no-access, logout, logged-out,
// error, activation and request-link pages. The switch on the login page
// keeps the login request.
func TestBrowserOnePresentation(t *testing.T) {
	axe := testenv.AxeCore(t)
	f := newFixture(t)
	activate := f.withAccountPages(t)
	ctx := testenv.Chromium(t, 150*time.Second)
	nav := func(path string, wait chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(path), wait); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	const beta = "Le Bêta"
	for _, lang := range []string{"fr", "en"} {
		// The language chosen with ?lang= is remembered by a cookie.
		nav(f.issuer+"/forgot?lang="+lang, chromedp.WaitVisible(chromedp.ID("identifier")))
		checkPage(t, ctx, axe, "request-link", lang, "")

		nav(f.issuer+activate, chromedp.WaitVisible(chromedp.ID("password")))
		account := checkPage(t, ctx, axe, "activation", lang, beta)

		nav(f.issuer+"/nope", chromedp.WaitVisible(chromedp.CSS(`a[href="/forgot"]`)))
		checkPage(t, ctx, axe, "not-found", lang, "")

		nav(f.issuer+"/authorize?client_id=nope", chromedp.WaitVisible(chromedp.CSS(`a[href="/"]`)))
		checkPage(t, ctx, axe, "error", lang, "")

		// An unregistered return address: the error names the service's
		// structure and offers the way back and the contact.
		nav(f.authURL(authParams(f.gen.ClientID, "https://evil.example/cb")), chromedp.WaitVisible(chromedp.CSS(`a[href^="mailto:"]`)))
		checkPage(t, ctx, axe, "error-service", lang, beta)

		nav(f.authURL(authParams(f.gen.ClientID, genRedirect)), chromedp.WaitVisible(chromedp.ID("username")))
		login := checkPage(t, ctx, axe, "login", lang, beta)
		if login.Brand != account.Brand || login.Labels != account.Labels {
			t.Errorf("the login page's header bar %+v differs from the activation page's %+v", login, account)
		}
		if lang == "fr" {
			// The switch keeps the login request: the form, in English,
			// then back.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav.langs a[hreflang="en"]`)),
				chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #username`))); err != nil {
				t.Fatalf("the language switch of the login page: %v", err)
			}
			h := checkPage(t, ctx, axe, "login-switched", "en", beta)
			if h.H1 != "Log in to Appli" {
				t.Errorf("the login page after the switch: %q", h.H1)
			}
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav.langs a[hreflang="fr"]`)),
				chromedp.WaitVisible(chromedp.CSS(`html[lang="fr"] #username`))); err != nil {
				t.Fatalf("back to French: %v", err)
			}
		}

		// Bob has no right on the service: the no-access page, with the
		// ways onward.
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("username"), "bob.durand"),
			chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Submit(chromedp.ID("password")),
			chromedp.WaitVisible(chromedp.CSS(`a[href*="prompt=login"]`)),
		); err != nil {
			t.Fatal(err)
		}
		checkPage(t, ctx, axe, "no-access", lang, beta)
		links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main a')].map(a => a.href)`))
		if err != nil {
			t.Fatal(err)
		}
		if !hasPrefixIn(links, f.gen.BaseURL) || !hasPrefixIn(links, f.issuer+"/authorize?") || !hasPrefixIn(links, "mailto:"+f.structure.Contact) {
			t.Errorf("the no-access page's ways onward: %v", links)
		}

		nav(f.issuer+"/logout", chromedp.WaitVisible(chromedp.CSS(`form[action="logout"] button`)))
		checkPage(t, ctx, axe, "logout", lang, "")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`))); err != nil {
			t.Fatal(err)
		}
		checkPage(t, ctx, axe, "logged-out", lang, "")
	}
}

func hasPrefixIn(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
