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

// withHeader is a transport that adds one header to every request: a
// proxy's X-Forwarded-For, or the address a test's ClientIP reads.
type withHeader struct{ name, value string }

func (h withHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Add(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

// remoteAddr is the transport of a client the provider sees at addr
// through the ClientIP of these tests (the X-Test-Client header).
func remoteAddr(addr string) http.RoundTripper { return withHeader{"X-Test-Client", addr} }

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
			b.client.Transport = withHeader{"X-Forwarded-For", client}
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

// Only failures count: people who type their password right are never held
// back (thirty members behind one NAT on training day), the username and
// the email of one account share a bucket, and an IPv6 client is limited
// by its /64.
func TestLoginRateLimitCountsFailures(t *testing.T) {
	var f *fixture
	f = newFixture(t, func(c *Config) {
		c.LoginLimiter = web.NewRateLimiter(3, time.Minute, func() time.Time { return f.clock.Now() })
		c.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	for i := range 6 {
		b := f.browser()
		b.client.Transport = remoteAddr("203.0.113.50") // all from one address
		v := authParams(f.gen.ClientID, genRedirect)
		res := b.login(b.get(f.authURL(v)), "alice.martin", testPassword)
		if res.location == nil {
			t.Fatalf("successful login %d was refused: %d", i+1, res.status)
		}
	}
	attempt := func(b *browser, login string) int {
		return b.login(b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), login, "wrong").status
	}
	// Two failures by username and one by email empty alice's bucket, from
	// three different addresses.
	for i, login := range []string{"alice.martin", "ALICE.MARTIN", "alice.martin@lebeta.example"} {
		b := f.browser()
		b.client.Transport = remoteAddr(fmt.Sprintf("198.51.100.%d", i+1))
		if st := attempt(b, login); st != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, st)
		}
	}
	b := f.browser()
	b.client.Transport = remoteAddr("198.51.100.9")
	if st := attempt(b, "alice.martin@lebeta.example"); st != http.StatusTooManyRequests {
		t.Errorf("after three failures on the account: %d, want 429", st)
	}
}

func TestLoginRateLimitIPv6Prefix(t *testing.T) {
	var f *fixture
	f = newFixture(t, func(c *Config) {
		c.LoginLimiter = web.NewRateLimiter(2, time.Minute, func() time.Time { return f.clock.Now() })
		c.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	attempt := func(client, login string) int {
		b := f.browser()
		b.client.Transport = remoteAddr(client)
		return b.login(b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))), login, "wrong").status
	}
	if attempt("2001:db8:1:2::1", "x1") != http.StatusUnauthorized || attempt("2001:db8:1:2::ffff", "x2") != http.StatusUnauthorized {
		t.Fatal("first two failures")
	}
	if st := attempt("2001:db8:1:2:abcd::7", "x3"); st != http.StatusTooManyRequests {
		t.Errorf("a third address of the same /64: %d, want 429", st)
	}
	if st := attempt("2001:db8:1:3::1", "x4"); st != http.StatusUnauthorized {
		t.Errorf("another /64: %d, want 401", st)
	}
}

// The provider keys its per-address buckets with web.ClientKey, like the
// account pages: an IPv4 client and its IPv4-mapped IPv6 form (what a
// dual-stack listener reports) share one bucket, two IPv4 neighbours do
// not, and two addresses of one IPv6 /64 do.
func TestAuthorizeRateLimitKeys(t *testing.T) {
	var f *fixture
	f = newFixture(t, func(c *Config) {
		c.AuthorizeLimiter = web.NewRateLimiter(2, time.Minute, func() time.Time { return f.clock.Now() })
		c.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	get := func(client string) result {
		b := f.browser()
		b.client.Transport = remoteAddr(client)
		return b.get(f.authURL(authParams(f.gen.ClientID, genRedirect)))
	}
	for _, c := range []struct {
		first, second, third string // the third is limited: it shares the first two's bucket
		other                string // another bucket
	}{
		{"192.0.2.1", "::ffff:192.0.2.1", "[::ffff:192.0.2.1]:4711", "192.0.2.2"},
		{"2001:db8:5:6::1", "2001:db8:5:6::2", "[2001:db8:5:6:ffff::9]:443", "2001:db8:5:7::1"},
	} {
		for _, client := range []string{c.first, c.second} {
			if res := get(client); !res.isLoginForm() {
				t.Fatalf("%s: %d", client, res.status)
			}
		}
		wantPage(t, get(c.third), http.StatusTooManyRequests, "Trop de demandes")
		if res := get(c.other); !res.isLoginForm() {
			t.Errorf("%s shares the bucket of %s: %d", c.other, c.first, res.status)
		}
	}
}

// One address may not store authorization requests faster than the
// authorize limit; another address is not affected.
func TestAuthorizeRateLimit(t *testing.T) {
	var f *fixture
	f = newFixture(t, func(c *Config) {
		c.AuthorizeLimiter = web.NewRateLimiter(2, time.Minute, func() time.Time { return f.clock.Now() })
		c.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	})
	get := func(client string) result {
		b := f.browser()
		b.client.Transport = remoteAddr(client)
		return b.get(f.authURL(authParams(f.gen.ClientID, genRedirect)))
	}
	for i := range 2 {
		if res := get("198.51.100.7"); !res.isLoginForm() {
			t.Fatalf("authorization %d: %d", i+1, res.status)
		}
	}
	wantPage(t, get("198.51.100.7"), http.StatusTooManyRequests, "Trop de demandes")
	if res := get("198.51.100.8"); !res.isLoginForm() {
		t.Errorf("another address was limited too: %d", res.status)
	}
	f.clock.Advance(time.Minute)
	if res := get("198.51.100.7"); !res.isLoginForm() {
		t.Errorf("after a minute: %d", res.status)
	}
}
