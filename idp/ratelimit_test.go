package idp

import (
	"net/http"
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
