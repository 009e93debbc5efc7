package idp

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"sesame/internal/apps"
	"sesame/internal/store"
)

func TestWordPressLogoutURI(t *testing.T) {
	const site = "https://wp.example/wp-login.php?loggedout=true&wp_lang="
	registered := []string{site + "fr_FR", site + "en_US"}
	cases := []struct {
		name string
		uri  string
		want bool
	}{
		{"registered itself", site + "en_US", true},
		{"german", site + "de_DE", true},
		{"brazilian", site + "pt_BR", true},
		{"formal variant", site + "de_DE_formal", true},
		{"informal variant", site + "de_CH_informal", true},
		{"orthography variant", site + "pt_PT_ao90", true},
		{"language only", site + "ja", true},
		{"three-letter language", site + "ary", true},
		{"emoji locale", site + "art_xemoji", true},

		{"empty locale", site, false},
		{"dot segments", site + "../", false},
		{"path after the locale", site + "de_DE/../../evil", false},
		{"double wp_lang", site + "de_DE&wp_lang=fr_FR", false},
		{"extra redirect_to", site + "de_DE&redirect_to=https%3A%2F%2Fevil.example%2F", false},
		{"another parameter", site + "de_DE&x=1", false},
		{"parameter in between", "https://wp.example/wp-login.php?loggedout=true&redirect_to=https%3A%2F%2Fevil.example&wp_lang=de_DE", false},
		{"parameters reordered", "https://wp.example/wp-login.php?wp_lang=de_DE&loggedout=true", false},
		{"loggedout=false", "https://wp.example/wp-login.php?loggedout=false&wp_lang=de_DE", false},
		{"fragment", site + "de_DE#x", false},
		{"encoded underscore", site + "de%5FDE", false},
		{"header injection", site + "de_DE%0d%0aLocation:%20https://evil.example", false},
		{"trailing space", site + "de_DE ", false},
		{"upper-case language", site + "DE_de", false},
		{"language too long", site + "deutsch_DE", false},
		{"variant too long", site + "de_DE_abcdefghijklm", false},
		{"another path", "https://wp.example/blog/wp-login.php?loggedout=true&wp_lang=de_DE", false},
		{"marker inside a query", "https://wp.example/?next=/wp-login.php?loggedout=true&wp_lang=de_DE", false},
		{"another host", "https://evil.example/wp-login.php?loggedout=true&wp_lang=de_DE", false},
		{"host suffix", "https://wp.example.evil.example/wp-login.php?loggedout=true&wp_lang=de_DE", false},
		{"user info", "https://wp.example@evil.example/wp-login.php?loggedout=true&wp_lang=de_DE", false},
		{"plain http", "http://wp.example/wp-login.php?loggedout=true&wp_lang=de_DE", false},
		{"host case", "https://WP.example/wp-login.php?loggedout=true&wp_lang=de_DE", false},
		{"not the plugin's address", "https://wp.example/", false},
	}
	for _, c := range cases {
		if got := apps.WordPressLogoutURI(registered, c.uri); got != c.want {
			t.Errorf("%s: apps.WordPressLogoutURI(%q) = %v, want %v", c.name, c.uri, got, c.want)
		}
	}
	// Only a registered address of the plugin's form opens the exception.
	for _, reg := range [][]string{nil, {"https://wp.example/"}, {"https://wp.example/wp-login.php?loggedout=true"},
		{"https://wp.example/wp-login.php?loggedout=true&wp_lang=de_DE&x=1"}} {
		if apps.WordPressLogoutURI(reg, site+"de_DE") {
			t.Errorf("registered %q accepted another locale", reg)
		}
	}
	// Only for WordPress services.
	for kind, want := range map[store.ServiceKind]bool{store.KindWordPress: true, store.KindNextcloud: false,
		store.KindPaheko: false, store.KindGeneric: false} {
		svc := store.Service{ID: "s1", Kind: kind, PostLogoutURIs: registered}
		if got := postLogoutAllowed(svc, site+"de_DE"); got != want {
			t.Errorf("%s service: de_DE allowed = %v, want %v", kind, got, want)
		}
		if !postLogoutAllowed(svc, site+"fr_FR") {
			t.Errorf("%s service: a registered URI refused", kind)
		}
	}
}

// wpSession is a browser logged in at Nextcloud (which registered a
// back-channel URI) and then at WordPress, through an independent relying
// party (go-oidc and x/oauth2) for each, and what they got.
type wpSession struct {
	b       *browser
	nc, wp  *oauth2.Token
	wpIDTok string // the raw ID token WordPress keeps for its logout
	sid     string
}

func (f *fixture) wpSession(t *testing.T) wpSession {
	t.Helper()
	b := f.browser()
	ncTok, _ := f.rp(f.nc, secretNC, ncRedirect).flow(b, "alice.martin")
	wpTok, idt := f.rp(f.wp, secretWP, wpRedirect).flow(b, "alice.martin")
	raw, _ := wpTok.Extra("id_token").(string)
	var c struct {
		SID string `json:"sid"`
	}
	if err := idt.Claims(&c); err != nil || c.SID == "" || ncTok.RefreshToken == "" {
		t.Fatalf("WordPress's ID token has no sid (%v), or Nextcloud no refresh token", err)
	}
	return wpSession{b: b, nc: ncTok, wp: wpTok, wpIDTok: raw, sid: c.SID}
}

// wordPressLogout sends the request of the plugin OpenID Connect Generic
// 3.10.3 (get_end_session_logout_redirect_url): the login's ID token as
// id_token_hint and the return address urlencoded, no client_id, no state.
// raw sends the return address unencoded instead, as INTEGRATIONS.md
// records it.
func (f *fixture) wordPressLogout(b *browser, idToken, returnTo string, raw bool) result {
	enc := url.QueryEscape(returnTo)
	if raw {
		enc = returnTo
	}
	return b.get(f.issuer + "/logout?" + "id_token_hint=" + idToken + "&post_logout_redirect_uri=" + enc)
}

// A logout from WordPress ends the SSO session whatever the return
// address, as long as its hint was signed for this browser's session (the
// login's ID token, expired by then): a locale other than the registered
// ones is followed (the wp_lang exception); an address that is not
// registered (a theme's home page, a redirect_to) is not followed, and
// sesame's own page says the person is logged out, with a link back to the
// service. Either way the next authorization asks for the password, the
// session's tokens are revoked and Nextcloud gets its back-channel logout.
func TestWordPressLogoutEndsTheSession(t *testing.T) {
	const site = "https://wp.example"
	cases := []struct {
		name     string
		returnTo string
		raw      bool
		followed bool
	}{
		{"profile locale", site + "/wp-login.php?loggedout=true&wp_lang=de_DE", false, true},
		{"profile locale unencoded", site + "/wp-login.php?loggedout=true&wp_lang=pt_BR", true, true},
		{"formal variant", site + "/wp-login.php?loggedout=true&wp_lang=de_DE_formal", false, true},
		{"registered locale", wpLogout, false, true},
		{"theme: wp_logout_url(home_url())", site + "/", false, false},
		{"theme: redirect_to", site + "/membres/", false, false},
		{"redirect_to appended", site + "/wp-login.php?loggedout=true&wp_lang=de_DE&redirect_to=" + url.QueryEscape(site+"/membres/"), false, false},
		{"redirect_to appended unencoded", site + "/wp-login.php?loggedout=true&wp_lang=fr_FR&redirect_to=" + site + "/membres/", true, false},
		{"another site", "https://evil.example/", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.wpSession(t)
			f.clock.Advance(2 * time.Hour) // the ID token WordPress kept has expired; the session lives on
			res := f.wordPressLogout(s.b, s.wpIDTok, c.returnTo, c.raw)
			if c.followed {
				if res.location == nil || res.location.String() != c.returnTo {
					t.Fatalf("logout: %d %v, want a redirect to %s", res.status, res.location, c.returnTo)
				}
			} else {
				wantPage(t, res, http.StatusOK, "Vous êtes déconnecté·e")
				if !strings.Contains(res.body, `<a href="`+f.wp.BaseURL+`">`) || !strings.Contains(res.body, "WordPress") {
					t.Errorf("no link back to the service:\n%s", res.body)
				}
				if strings.Contains(res.body, "evil.example") || strings.Contains(res.body, "/membres/") {
					t.Errorf("the page links to the unregistered address:\n%s", res.body)
				}
			}
			if res := s.b.get(f.authURL(authParams(f.wp.ClientID, wpRedirect))); !res.isLoginForm() {
				t.Fatalf("the next authorization did not ask for the password: %d %v", res.status, res.location)
			}
			f.assertSessionGone(t, s)
		})
	}
}

// assertSessionGone checks that the session's tokens are revoked and that
// Nextcloud got its back-channel logout for the session.
func (f *fixture) assertSessionGone(t *testing.T, s wpSession) {
	t.Helper()
	for name, at := range map[string]string{"Nextcloud": s.nc.AccessToken, "WordPress": s.wp.AccessToken} {
		if st, _ := f.userinfo(at); st != http.StatusUnauthorized {
			t.Errorf("%s's access token after the logout: %d, want 401", name, st)
		}
	}
	st, body := f.tokenReq(f.nc.ClientID, secretNC, false, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.nc.RefreshToken}})
	if st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Errorf("Nextcloud's refresh token after the logout: %d %s", st, fmtJSON(body))
	}
	f.deliver()
	got := f.bc.all()
	if len(got) != 1 {
		t.Fatalf("%d back-channel logouts, want 1 (Nextcloud)", len(got))
	}
	prov, err := oidc.NewProvider(context.Background(), f.issuer)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := prov.Verifier(&oidc.Config{ClientID: f.nc.ClientID, Now: f.clock.Now}).Verify(context.Background(), got[0])
	var c struct {
		SID string `json:"sid"`
	}
	if err != nil || tok.Claims(&c) != nil || c.SID != s.sid {
		t.Errorf("back-channel logout token: %v, sid %q, want %q", err, c.SID, s.sid)
	}
}

// The exception does not weaken the other rules: an unregistered return
// address is refused, and nothing ends, when the hint names someone else
// than the browser's session, when the browser has no session, when the
// hint is forged, or when there is no hint.
func TestUnregisteredLogoutReturnStillRefused(t *testing.T) {
	f := newFixture(t)
	alice := f.wpSession(t)
	f.clock.Advance(2 * time.Hour)
	aliceStillIn := func() bool {
		return !alice.b.get(f.authURL(authParams(f.wp.ClientID, wpRedirect))).isLoginForm()
	}

	// bob's browser: his session must survive alice's hint.
	bob := f.browser()
	bob.login(bob.get(f.authURL(authParams(f.wp.ClientID, wpRedirect))), "bob.durand", testPassword)
	if sessionCookieOf(bob, f) == "" {
		t.Fatal("bob has no session")
	}
	bobStillIn := func() bool {
		return !bob.get(f.authURL(authParams(f.wp.ClientID, wpRedirect))).isLoginForm()
	}
	cases := []struct {
		name, contains string
		b              *browser
		hint           string
	}{
		{"hint naming someone else", "pas enregistrée", bob, alice.wpIDTok},
		{"no session in this browser", "pas enregistrée", f.browser(), alice.wpIDTok},
		{"forged hint", "pas été émis", alice.b, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
		{"no hint", "pas enregistrée", alice.b, ""},
	}
	for _, c := range cases {
		for _, returnTo := range []string{"https://wp.example/", "https://evil.example/"} {
			q := "post_logout_redirect_uri=" + url.QueryEscape(returnTo) + "&client_id=" + f.wp.ClientID
			if c.hint != "" {
				q = "id_token_hint=" + c.hint + "&" + q
			}
			wantPage(t, c.b.get(f.issuer+"/logout?"+q), http.StatusBadRequest, c.contains)
			if !aliceStillIn() || !bobStillIn() {
				t.Fatalf("%s (%s): a session ended", c.name, returnTo)
			}
		}
	}
	f.deliver()
	if n := len(f.bc.all()); n != 0 {
		t.Errorf("%d back-channel logouts after refusals", n)
	}
}
