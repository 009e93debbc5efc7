package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"sesame/web"
)

func prefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

func TestClientIPFrom(t *testing.T) {
	// A proxy on this machine and a load balancer network in front of it.
	trusted := prefixes(t, "127.0.0.1/32", "::1/128", "10.0.0.0/8", "fd00::/8")
	cases := []struct {
		name   string
		remote string
		xff    []string // header lines, in order
		want   string
	}{
		{"direct client", "203.0.113.7:5123", nil, "203.0.113.7"},
		{"direct client's header ignored", "203.0.113.7:5123", []string{"1.2.3.4"}, "203.0.113.7"},
		{"through the proxy", "127.0.0.1:40000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"proxy without header", "127.0.0.1:40000", nil, "127.0.0.1"},
		{"spoofed entry before the real one", "127.0.0.1:40000", []string{"1.2.3.4, 203.0.113.7"}, "203.0.113.7"},
		{"spoofed line before the proxy's", "127.0.0.1:40000", []string{"1.2.3.4", "203.0.113.7"}, "203.0.113.7"},
		{"two proxies", "127.0.0.1:40000", []string{"203.0.113.7, 10.1.2.3"}, "203.0.113.7"},
		{"two proxies, two lines", "127.0.0.1:40000", []string{"1.2.3.4,203.0.113.7", " 10.1.2.3 "}, "203.0.113.7"},
		{"every entry trusted", "127.0.0.1:40000", []string{"10.0.0.9, 10.1.2.3"}, "10.0.0.9"},
		{"garbage stops at the last trusted hop", "127.0.0.1:40000", []string{"203.0.113.7, bogus, 10.1.2.3"}, "10.1.2.3"},
		{"garbage right after the proxy", "127.0.0.1:40000", []string{"203.0.113.7, unknown"}, "127.0.0.1"},
		{"empty entry is garbage", "127.0.0.1:40000", []string{"203.0.113.7,"}, "127.0.0.1"},
		{"hostname is garbage", "127.0.0.1:40000", []string{"evil.example"}, "127.0.0.1"},
		{"entry with a port", "127.0.0.1:40000", []string{"203.0.113.7:4711"}, "203.0.113.7"},
		{"ipv6 client", "[::1]:40000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"ipv6 client bracketed with port", "[::1]:40000", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"ipv6 client bracketed", "[::1]:40000", []string{"[2001:DB8:0::1]"}, "2001:db8::1"},
		{"ipv6 proxy chain", "[fd00::2]:40000", []string{"2001:db8::1, fd00::1"}, "2001:db8::1"},
		{"ipv4-mapped client", "127.0.0.1:40000", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"ipv4-mapped proxy", "[::ffff:127.0.0.1]:40000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"ipv4-mapped direct client", "[::ffff:203.0.113.7]:5123", []string{"1.2.3.4"}, "203.0.113.7"},
		{"zone dropped", "[::1]:40000", []string{"fe80::1%eth0"}, "fe80::1"},
		{"untrusted ipv6 peer", "[2001:db8::9]:40000", []string{"1.2.3.4"}, "2001:db8::9"},
	}
	ip := web.ClientIPFrom(trusted)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/forgot", nil)
			r.RemoteAddr = c.remote
			for _, l := range c.xff {
				r.Header.Add("X-Forwarded-For", l)
			}
			if got := ip(r); got != c.want {
				t.Fatalf("client of %s with X-Forwarded-For %q = %q, want %q", c.remote, c.xff, got, c.want)
			}
		})
	}
}

func TestClientIPFromNoProxy(t *testing.T) {
	ip := web.ClientIPFrom(nil)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	if got := ip(r); got != "127.0.0.1" {
		t.Fatalf("with no trusted proxy, client = %q", got)
	}
	// A RemoteAddr that is not host:port (not from a TCP listener) is kept.
	r.RemoteAddr = "@"
	if got := web.ClientIPFrom(prefixes(t, "127.0.0.1/32"))(r); got != "@" {
		t.Fatalf("odd RemoteAddr: client = %q", got)
	}
}

func TestLogRequestsClient(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	h := web.LogRequestsFrom(logger, web.ClientIPFrom(prefixes(t, "127.0.0.1/32")), ok)

	r := httptest.NewRequest(http.MethodGet, "/forgot", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if l := buf.String(); !strings.Contains(l, "remote=127.0.0.1:40000") || !strings.Contains(l, "client=203.0.113.7") {
		t.Fatalf("proxied request log: %s", l)
	}

	buf.Reset()
	r.RemoteAddr = "203.0.113.7:5123"
	h.ServeHTTP(httptest.NewRecorder(), r)
	if l := buf.String(); !strings.Contains(l, "remote=203.0.113.7:5123") || strings.Contains(l, "client=") {
		t.Fatalf("direct request log: %s", l)
	}
}

// Behind a trusted proxy, two clients have their own per-IP budget, and a
// client cannot escape its own by sending X-Forwarded-For; with no trusted
// proxy, everyone behind it shares the proxy's.
func TestRateLimitBehindProxy(t *testing.T) {
	const alice, bob = "203.0.113.1", "198.51.100.2"
	// An unknown link is a 404 once past the limit.
	notLimited := func(t *testing.T, r response) { t.Helper(); mustStatus(t, r, http.StatusNotFound) }
	// The test server's requests come from 127.0.0.1: it plays the proxy,
	// which appends the client's address to X-Forwarded-For.
	limit := func(trusted ...string) envOption {
		return func(a *web.Account) {
			a.IPLimit = web.NewRateLimiter(2, time.Hour, nil)
			a.ClientIP = web.ClientIPFrom(prefixes(t, trusted...))
		}
	}
	post := func(e *env, xff string) response {
		return e.post("/activate/x", pw(goodPassword), "X-Forwarded-For", xff)
	}

	t.Run("trusted", func(t *testing.T) {
		e := newEnv(t, limit("127.0.0.1/32", "::1/128"))
		for range 2 {
			notLimited(t, post(e, alice))
		}
		mustStatus(t, post(e, alice), http.StatusTooManyRequests)
		// Alice claims to be someone else; the proxy appends her address.
		mustStatus(t, post(e, "192.0.2.99, "+alice), http.StatusTooManyRequests)
		for range 2 {
			notLimited(t, post(e, bob))
		}
		mustStatus(t, post(e, bob), http.StatusTooManyRequests)
	})
	t.Run("not trusted", func(t *testing.T) {
		e := newEnv(t, limit())
		for range 2 {
			notLimited(t, post(e, alice))
		}
		mustStatus(t, post(e, bob), http.StatusTooManyRequests)
	})
}

func TestClientKey(t *testing.T) {
	cases := []struct{ addr, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"203.0.113.7:5123", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"[::ffff:203.0.113.7]:5123", "203.0.113.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:abcd:ef01:2345:6789", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::1]:4711", "2001:db8:1:2::/64"},
		{"2001:DB8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"@", "@"},
		{"not an address", "not an address"},
	}
	for _, c := range cases {
		if got := web.ClientKey(c.addr); got != c.want {
			t.Errorf("ClientKey(%q) = %q, want %q", c.addr, got, c.want)
		}
	}
}

// The account forms' per-IP limit counts an IPv6 client by its /64, like
// the provider's login limit: rotating addresses inside one /64 does not
// buy more attempts, another /64 has its own budget, and an IPv4 client
// and its IPv4-mapped IPv6 form share one bucket.
func TestRateLimitGroupsIPv6ByPrefix(t *testing.T) {
	notLimited := func(t *testing.T, r response) { t.Helper(); mustStatus(t, r, http.StatusNotFound) }
	e := newEnv(t, func(a *web.Account) {
		a.IPLimit = web.NewRateLimiter(2, time.Hour, nil)
		a.ClientIP = web.ClientIPFrom(prefixes(t, "127.0.0.1/32", "::1/128"))
	})
	post := func(client string) response {
		return e.post("/activate/x", pw(goodPassword), "X-Forwarded-For", client)
	}
	notLimited(t, post("2001:db8:1:2::1"))
	notLimited(t, post("2001:db8:1:2::ffff"))
	mustStatus(t, post("2001:db8:1:2:abcd::7"), http.StatusTooManyRequests)
	notLimited(t, post("2001:db8:1:3::1"))

	notLimited(t, post("192.0.2.1"))
	notLimited(t, post("::ffff:192.0.2.1"))
	mustStatus(t, post("192.0.2.1"), http.StatusTooManyRequests)
	notLimited(t, post("192.0.2.2"))
}
