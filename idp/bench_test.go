package idp

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sesame/internal/password"
	"sesame/internal/store"
)

// seedCodes stores n ready codes for the generic client and returns them.
func (f *fixture) seedCodes(tb testing.TB, n int) []string {
	ctx := context.Background()
	o := f.p.st
	codes := make([]string, n)
	for i := range codes {
		ar := store.AuthRequest{ID: randomID(32), ClientID: f.gen.ClientID, RedirectURI: genRedirect, Scopes: []string{"openid", "email", "profile"},
			ResponseType: "code", MaxAge: -1, PersonID: f.alice.ID, AuthTime: f.clock.Now(), SID: "bench", Done: true,
			ExpiresAt: f.clock.Now().Add(f.p.cfg.AuthRequestTTL)}
		if err := o.CreateAuthRequest(ctx, &ar); err != nil {
			tb.Fatal(err)
		}
		codes[i] = randomID(32)
		if err := o.CreateAuthCode(ctx, store.AuthCode{Hash: sha(codes[i]), AuthRequestID: ar.ID, ClientID: f.gen.ClientID,
			ExpiresAt: f.clock.Now().Add(f.p.cfg.CodeTTL)}); err != nil {
			tb.Fatal(err)
		}
	}
	return codes
}

// BenchmarkTokenEndpoint measures code exchanges over HTTP (client
// authentication, atomic consumption, family, refresh token, RS256 signing
// of the access and ID tokens).
func BenchmarkTokenEndpoint(b *testing.B) {
	f := newFixture(b)
	codes := f.seedCodes(b, b.N)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	var i int64
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			<-mu
			code := codes[i]
			i++
			mu <- struct{}{}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {genRedirect}}
			req, _ := http.NewRequest(http.MethodPost, f.issuer+"/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(f.gen.ClientID, secretGen)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkLogin measures password logins over HTTP with sesame's real
// argon2id parameters (m=19 MiB, t=2, p=1): form post, lookup, verify, new
// SSO session, access check, code. Compare with BenchmarkArgon2idVerify.
func BenchmarkLogin(b *testing.B) {
	f := newFixture(b, func(c *Config) { c.Hasher = password.NewHasher(password.DefaultParams(), 0) })
	ctx := context.Background()
	real := password.NewHasher(password.DefaultParams(), 0)
	hash, err := real.Hash(ctx, testPassword)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.st.UpdatePerson(ctx, f.alice.ID, func(p *store.Person) error { p.PasswordHash = hash; return nil }); err != nil {
		b.Fatal(err)
	}
	browserID := randomID(32)
	ids := make([]string, b.N)
	for i := range ids {
		ar := store.AuthRequest{ID: randomID(32), ClientID: f.gen.ClientID, RedirectURI: genRedirect, Scopes: []string{"openid"},
			ResponseType: "code", MaxAge: -1, BrowserHash: sha(browserID), ExpiresAt: f.clock.Now().Add(f.p.cfg.AuthRequestTTL)}
		if err := f.p.st.CreateAuthRequest(ctx, &ar); err != nil {
			b.Fatal(err)
		}
		ids[i] = ar.ID
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b.ResetTimer()
	var i int64
	mu := make(chan struct{}, 1)
	mu <- struct{}{}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			<-mu
			id := ids[i]
			i++
			mu <- struct{}{}
			form := url.Values{"req": {id}, "username": {"alice.martin"}, "password": {testPassword}}
			req, _ := http.NewRequest(http.MethodPost, f.issuer+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: browserCookie, Value: browserID})
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

// BenchmarkArgon2idVerify is the raw hash rate on the same machine, with
// the same parallelism as BenchmarkLogin.
func BenchmarkArgon2idVerify(b *testing.B) {
	h := password.NewHasher(password.DefaultParams(), 0)
	ctx := context.Background()
	hash, err := h.Hash(ctx, testPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := h.Verify(ctx, hash, testPassword); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkJWKS and BenchmarkDiscovery are served from memory.
func BenchmarkDiscovery(b *testing.B) {
	f := newFixture(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(f.issuer + "/.well-known/openid-configuration")
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
