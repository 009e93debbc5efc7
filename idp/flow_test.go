package idp

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"sesame/internal/store"
)

func TestDiscovery(t *testing.T) {
	f := newFixture(t)
	prov, err := oidc.NewProvider(context.Background(), f.issuer)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := prov.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d["issuer"] != f.issuer {
		t.Errorf("issuer %v", d["issuer"])
	}
	for k, want := range map[string]string{
		"code_challenge_methods_supported":      `["S256"]`,
		"token_endpoint_auth_methods_supported": `["client_secret_basic","client_secret_post"]`,
		"scopes_supported":                      `["openid","email","profile"]`,
		"response_types_supported":              `["code"]`,
	} {
		if got := fmtJSON(d[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"} {
		if s, _ := d[k].(string); !strings.HasPrefix(s, f.issuer+"/") {
			t.Errorf("%s = %v", k, d[k])
		}
	}
	// The Host header does not change anything (WordPress drops the port).
	req, _ := http.NewRequest(http.MethodGet, f.issuer+"/.well-known/openid-configuration", nil)
	req.Host = "127.0.0.1"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("discovery with another Host: %d", resp.StatusCode)
	}
}

// TestFullFlow: code + PKCE S256 + nonce, claims in the ID token and
// userinfo, SSO into a second client, refresh, RP-initiated logout and
// back-channel logout, all driven by go-oidc.
func TestFullFlow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := f.browser()
	nc := f.rp(f.nc, secretNC, ncRedirect)
	tok, idt := nc.flow(b, "alice.martin")
	c := mustClaims(t, idt)
	want := map[string]any{"sub": f.alice.ID, "preferred_username": "alice.martin", "email": "Alice.Martin@lebeta.example",
		"email_verified": true, "name": "Alice Martin", "given_name": "Alice", "family_name": "Martin", "quota": "5 GB"}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("ID token %s = %v, want %v", k, c[k], v)
		}
	}
	if fmtJSON(c["groups"]) != `["admin"]` {
		t.Errorf("groups = %v, want [admin] (the role on this service)", c["groups"])
	}
	sid, _ := c["sid"].(string)
	if sid == "" || c["azp"] != f.nc.ClientID {
		t.Errorf("sid %v azp %v", c["sid"], c["azp"])
	}
	if tok.RefreshToken == "" || tok.TokenType != "Bearer" {
		t.Errorf("token type %q refresh %q", tok.TokenType, tok.RefreshToken)
	}

	// userinfo through go-oidc
	ui, err := nc.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var uc map[string]any
	_ = ui.Claims(&uc)
	if uc["sub"] != f.alice.ID || uc["email"] != "Alice.Martin@lebeta.example" || uc["profile"] != nil ||
		fmtJSON(uc["groups"]) != `["admin"]` || uc["preferred_username"] != "alice.martin" {
		t.Errorf("userinfo = %s", fmtJSON(uc))
	}

	// SSO: the generic client (ES256? no: RS256, basic auth) needs no login.
	gen := f.rp(f.gen, secretGen, genRedirect)
	state := "s2"
	res := b.get(gen.conf.AuthCodeURL(state))
	if res.isLoginForm() {
		t.Fatal("second client asked for a second login")
	}
	code := f.codeFrom(res, genRedirect, state)
	tok2, err := gen.conf.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	idt2, err := gen.verifier.Verify(ctx, tok2.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	c2 := mustClaims(t, idt2)
	if c2["sid"] != sid || fmtJSON(c2["groups"]) != `["user"]` || c2["quota"] != nil {
		t.Errorf("second client claims: %s", fmtJSON(c2))
	}
	if !idt2.IssuedAt.Equal(idt2.IssuedAt) || c2["auth_time"] != c["auth_time"] {
		t.Errorf("auth_time changed without a login: %v vs %v", c2["auth_time"], c["auth_time"])
	}

	// refresh through x/oauth2 rotates the token.
	f.clock.Advance(2 * time.Hour)
	ts := nc.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken})
	tok3, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok3.RefreshToken == "" || tok3.RefreshToken == tok.RefreshToken || tok3.AccessToken == tok.AccessToken {
		t.Error("refresh did not rotate")
	}
	raw3, _ := tok3.Extra("id_token").(string)
	idt3, err := nc.verifier.Verify(ctx, raw3)
	if err != nil {
		t.Fatal(err)
	}
	if mustClaims(t, idt3)["sid"] != sid {
		t.Error("refreshed ID token lost its sid")
	}

	// RP-initiated logout with the ID token hint, then back-channel to the
	// session's other client (Nextcloud, which sent the hint, has already
	// dropped its session and would answer 400).
	hint := tok.Extra("id_token").(string)
	res = b.get(f.issuer + "/logout?id_token_hint=" + url.QueryEscape(hint) + "&post_logout_redirect_uri=" + url.QueryEscape(ncLogout) + "&state=bye")
	if res.location == nil || res.location.String() != ncLogout+"&state=bye" {
		t.Fatalf("logout ended on %d %v", res.status, res.location)
	}
	f.deliver()
	got := f.bc.all()
	if len(got) != 1 {
		t.Fatalf("back-channel logouts: %d, want 1", len(got))
	}
	auds := []string{}
	for _, lt := range got {
		v := nc.provider.Verifier(&oidc.Config{SkipClientIDCheck: true, Now: f.clock.Now})
		tokn, err := v.Verify(ctx, lt)
		if err != nil {
			t.Fatalf("logout token does not verify with the JWKS: %v", err)
		}
		var lc map[string]any
		_ = tokn.Claims(&lc)
		ev, _ := lc["events"].(map[string]any)
		if _, ok := ev["http://schemas.openid.net/event/backchannel-logout"]; !ok || lc["sid"] != sid || lc["sub"] != f.alice.ID ||
			lc["jti"] == nil || lc["nonce"] != nil || lc["iat"] == nil {
			t.Errorf("logout token claims %s", fmtJSON(lc))
		}
		auds = append(auds, tokn.Audience...)
	}
	slices.Sort(auds)
	if fmtJSON(auds) != fmtJSON([]string{f.gen.ClientID}) {
		t.Errorf("logout audiences %v", auds)
	}
	// The session is gone: the next authorization shows the form.
	if res := b.get(gen.conf.AuthCodeURL("s3")); !res.isLoginForm() {
		t.Errorf("after logout: %d %v", res.status, res.location)
	}
}

// TestPahekoAndWordPressFlows mirror the two PHP clients' exact requests:
// no PKCE, no nonce, client_secret_post, a redirect URI with a query.
func TestPahekoAndWordPressFlows(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	// Paheko: scope is every scope of discovery, joined with "+".
	raw := f.issuer + "/authorize?response_type=code&client_id=pk-client&redirect_uri=" +
		url.QueryEscape(pkRedirect) + "&state=0123456789abcdef0123456789abcdef01234567&scope=openid+email+profile"
	res := b.login(b.get(raw), "Alice.Martin@LEBETA.example", testPassword)
	if res.location == nil || !strings.HasPrefix(res.location.String(), pkRedirect+"&code=") {
		t.Fatalf("paheko redirect: %v (%d %.300s)", res.location, res.status, res.body)
	}
	code := res.location.Query().Get("code")
	st, body := f.exchange(f.pk, secretPK, code, pkRedirect, "")
	if st != 200 || body["access_token"] == nil || body["token_type"] != "Bearer" || body["refresh_token"] != nil {
		t.Fatalf("paheko token: %d %s", st, fmtJSON(body))
	}
	st, ui := f.userinfo(body["access_token"].(string))
	if st != 200 || ui["email"] != "Alice.Martin@lebeta.example" || fmtJSON(ui["profile"]) != `{"name":"Alice Martin"}` {
		t.Fatalf("paheko userinfo: %d %s", st, fmtJSON(ui))
	}
	// The ES256 client's ID token names its key.
	if hdr := strings.Split(body["id_token"].(string), ".")[0]; !strings.Contains(decodeB64(t, hdr), `"kid":"ES256-`) {
		t.Errorf("ES256 header %s", decodeB64(t, hdr))
	}

	// WordPress: 32 hex state, no nonce, scope in the token request too.
	v := authParams(f.wp.ClientID, wpRedirect, "state", "0123456789abcdef0123456789abcdef")
	res = b.get(f.authURL(v))
	code = f.codeFrom(res, wpRedirect+"&", v.Get("state"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {wpRedirect}, "scope": {"openid email profile"}}
	st, body = f.tokenReq(f.wp.ClientID, secretWP, false, form)
	if st != 200 || body["id_token"] == nil || body["refresh_token"] != nil {
		t.Fatalf("wordpress token: %d %s", st, fmtJSON(body))
	}
	// WordPress logs out with its (expired) login ID token and an unencoded
	// post-logout URI carrying its own query.
	f.clock.Advance(3 * time.Hour)
	res = b.get(f.issuer + "/logout?id_token_hint=" + body["id_token"].(string) + "&post_logout_redirect_uri=" + wpLogout)
	if res.location == nil || res.location.String() != wpLogout {
		t.Fatalf("wordpress logout: %d %v %.200s", res.status, res.location, res.body)
	}
}

func decodeB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64RawURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestKeyRotation: the next key is published before it signs, and the
// previous stays until the tokens it signed expired.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old, err := f.p.keys.active(AlgRS256, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	km := &KeyManager{Store: f.st, MasterKey: f.p.cfg.MasterKey, Now: f.clock.Now, PublishDelay: 10 * time.Minute, KeepAfter: 2 * time.Hour}
	kids, err := km.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.p.ReloadKeys(ctx); err != nil {
		t.Fatal(err)
	}
	jwks := string(f.p.keys.jwksJSON())
	for _, k := range append(kids, old.kid) {
		if !strings.Contains(jwks, k) {
			t.Errorf("JWKS lacks %s", k)
		}
	}
	if k, _ := f.p.keys.active(AlgRS256, f.clock.Now()); k.kid != old.kid {
		t.Error("a new key signs before its publication delay")
	}
	f.clock.Advance(11 * time.Minute)
	k, _ := f.p.keys.active(AlgRS256, f.clock.Now())
	if !slices.Contains(kids, k.kid) {
		t.Error("the new key does not sign after the delay")
	}
	// A token signed by the new key verifies for an independent client.
	nc := f.rp(f.nc, secretNC, ncRedirect)
	_, idt := nc.flow(f.browser(), "alice.martin")
	_ = idt
	f.clock.Advance(2*time.Hour + time.Minute)
	if err := f.p.ReloadKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(f.p.keys.jwksJSON()), old.kid) {
		t.Error("the old key is still published after its tokens expired")
	}
	// The keys are encrypted at rest: the stored bytes are not the DER.
	keys, _ := f.p.st.ListSigningKeys(ctx)
	for _, k := range keys {
		if strings.Contains(string(k.PrivateKey), "\x30\x82") && len(k.PrivateKey) > 0 && k.PrivateKey[0] == 0x30 {
			t.Errorf("key %s looks unencrypted", k.KID)
		}
	}
	// A wrong master key cannot load them.
	if _, err := New(ctx, Config{Issuer: f.issuer, Store: f.st, Hasher: f.hasher, MasterKey: []byte("another key another key another!!"), Now: f.clock.Now}); err == nil {
		t.Error("keys decrypted with another master key")
	}
}

var _ = store.ErrNotFound
