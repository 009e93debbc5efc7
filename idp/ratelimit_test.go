package idp

import (
	"fmt"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"sesame/web"
)

// TestLoginRateLimit: past the burst, attempts are answered 429 at once,
// without a password verification, and the right password waits too.
func TestLoginRateLimit(t *testing.T) {
	var f *fixture
	f = newFixture(t, func(c *Config) {
		c.LoginLimiter = web.NewRateLimiter(3, time.Minute, func() time.Time { return f.clock.Now() })
	})
	b := f.browser()
	for i := range 3 {
		res := b.login(b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), "alice.martin", "wrong")
		if res.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, res.status)
		}
	}
	res := b.login(b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), "alice.martin", testPassword)
	wantPage(t, res, http.StatusTooManyRequests, "Trop de tentatives")
	f.clock.Advance(time.Minute)
	v := authParams(f.gen.ClientID, genRedirect)
	f.codeFrom(b.login(b.get(f.authURL(v)), "alice.martin", testPassword), genRedirect, v.Get("state"))
}

// forwardedFor is a proxy's transport: it adds the client's address.
type forwardedFor string

func (a forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Add("X-Forwarded-For", string(a))
	return http.DefaultTransport.RoundTrip(r)
}

// Behind a trusted reverse proxy, each client's login attempts count
// against its own address; without the proxy trusted, they share the
// proxy's.
func TestLoginRateLimitBehindProxy(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		var f *fixture
		f = newFixture(t, func(c *Config) {
			c.LoginLimiter = web.NewRateLimiter(3, time.Minute, func() time.Time { return f.clock.Now() })
			if trusted {
				c.ClientIP = web.ClientIPFrom([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")})
			}
		})
		attempt := func(client, username string) int {
			b := f.browser()
			b.client.Transport = forwardedFor(client)
			return b.login(b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), username, "wrong").status
		}
		for i := range 3 {
			if st := attempt("203.0.113.1", fmt.Sprintf("nobody%d", i)); st != http.StatusUnauthorized {
				t.Fatalf("trusted=%v: attempt %d of the first client: %d", trusted, i, st)
			}
		}
		if st := attempt("203.0.113.1", "nobody9"); st != http.StatusTooManyRequests {
			t.Errorf("trusted=%v: the first client's fourth attempt: %d, want 429", trusted, st)
		}
		want := http.StatusUnauthorized
		if !trusted {
			want = http.StatusTooManyRequests
		}
		if st := attempt("203.0.113.2", "somebody"); st != want {
			t.Errorf("trusted=%v: another client behind the proxy: %d, want %d", trusted, st, want)
		}
	}
}
