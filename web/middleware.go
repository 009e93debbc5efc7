package web

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// ContentSecurityPolicy is sent with every page, the account pages' and
// the provider's alike: only our own files, no inline script or style, no
// framing, forms only to ourselves.
const ContentSecurityPolicy = cspHead + "form-action 'self'; " + cspTail

const (
	cspHead = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; "
	cspTail = "frame-ancestors 'none'"
)

// ContentSecurityPolicyFor is ContentSecurityPolicy whose form-action also
// allows origins (scheme://host[:port]): browsers apply form-action to the
// redirects that answer a form, and the provider's login and logout forms
// are answered by a redirect to the service. Anything that is not an
// http(s) origin is left out.
func ContentSecurityPolicyFor(origins ...string) string {
	allowed := []string{"'self'"}
	for _, o := range origins {
		if o, ok := Origin(o); ok && !slices.Contains(allowed, o) {
			allowed = append(allowed, o)
		}
	}
	return cspHead + "form-action " + strings.Join(allowed, " ") + "; " + cspTail
}

// Origin returns the origin (scheme://host[:port]) of an absolute http or
// https URL, and whether it has one fit for a policy: no user
// information, and a host of letters, digits, dots, hyphens, colons and
// brackets only.
func Origin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	for _, c := range u.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return "", false
		}
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), true
}

// SecurityHeaders sets the security headers on every response of next:
// CSP, no framing, no referrer (links carry secrets), no MIME sniffing, a
// same-origin opener policy, and HSTS when hsts is true (public URL in
// https).
func SecurityHeaders(hsts bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// CSRF protects sesame's own forms with Go's cross-origin protection
// (Sec-Fetch-Site, then Origin against Host): a cross-site POST is refused
// with the error page (403). publicURL's origin is trusted too, for a proxy
// that rewrites Host. Apply it to our forms only, never to the OpenID
// Connect endpoints that relying parties call.
func CSRF(rd *Renderer, publicURL string, next http.Handler) (http.Handler, error) {
	p := http.NewCrossOriginProtection()
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("web: public URL %q is not an absolute URL", publicURL)
		}
		if err := p.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("web: trusted origin of %q: %w", publicURL, err)
		}
	}
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.WriteError(w, r, Errorf(EForbidden, "cross-origin request refused (Origin %q, Sec-Fetch-Site %q)",
			r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site")))
	}))
	return p.Handler(next), nil
}

// ClientIP returns the address a request came from: RemoteAddr's host. It
// is the client when no reverse proxy is trusted; behind one, use the
// function ClientIPFrom returns.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ClientIPFrom returns a function that finds a request's client address
// when sesame runs behind the reverse proxies in trusted. A request whose
// peer (RemoteAddr) is not trusted is its own client, and its
// X-Forwarded-For is ignored. Otherwise X-Forwarded-For (every header line,
// entries separated by commas) is read from the right, the end each proxy
// appends to: entries that are trusted proxies are skipped and the first
// other one is the client. When every entry is trusted, the leftmost is the
// client. An entry that is not an IP address stops the walk at the last
// trusted hop, whose address is then returned: nothing to its left can be
// believed. Addresses are returned in their canonical form, IPv4-mapped IPv6
// as IPv4.
//
// Only X-Forwarded-For is read, never Forwarded (RFC 7239): a proxy that
// writes one header passes the other through as the client sent it, so
// reading both would let a client forge the one its proxy does not write.
// nginx, Caddy, HAProxy and Apache all write X-Forwarded-For.
//
// With no trusted proxy it returns ClientIP.
func ClientIPFrom(trusted []netip.Prefix) func(*http.Request) string {
	if len(trusted) == 0 {
		return ClientIP
	}
	trusted = slices.Clone(trusted)
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		hop, ok := parseHop(r.RemoteAddr)
		if !ok {
			return ClientIP(r)
		}
		if !isTrusted(hop) {
			return hop.String()
		}
		lines := r.Header.Values("X-Forwarded-For")
		for i := len(lines) - 1; i >= 0; i-- {
			entries := strings.Split(lines[i], ",")
			for j := len(entries) - 1; j >= 0; j-- {
				a, ok := parseHop(strings.TrimSpace(entries[j]))
				if !ok {
					return hop.String()
				}
				if !isTrusted(a) {
					return a.String()
				}
				hop = a
			}
		}
		return hop.String()
	}
}

// parseHop parses an address as RemoteAddr or X-Forwarded-For give it: an
// IP address, with or without a port ("192.0.2.1:4711", "[2001:db8::1]:4711",
// "[2001:db8::1]"). The zone is dropped and IPv4-mapped IPv6 becomes IPv4.
func parseHop(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		host, _, serr := net.SplitHostPort(s)
		if serr != nil {
			if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
				return netip.Addr{}, false
			}
			host = s[1 : len(s)-1]
		}
		if a, err = netip.ParseAddr(host); err != nil {
			return netip.Addr{}, false
		}
	}
	return a.Unmap().WithZone(""), true
}

// LimitByIP refuses with 429 the requests of next whose client has no
// token left in l. Clients are counted by ClientKey (an IPv6 client by its
// /64), like the provider's login limits.
func LimitByIP(rd *Renderer, l Limiter, ip func(*http.Request) string, next http.Handler) http.Handler {
	if ip == nil {
		ip = ClientIP
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := ClientKey(ip(r))
		if ok, wait := l.Allow("ip:" + key); !ok {
			rd.WriteError(w, r, &Error{Code: ETooMany, RetryAfter: wait,
				Err: fmt.Errorf("rate limit per IP for %s", key)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// secretPaths are the path prefixes whose next segment is a secret.
var secretPaths = []string{"/activate/", "/reset/"}

// RedactPath hides the secret of a link's path (/activate/SECRET becomes
// /activate/…) so logs never hold a working link.
func RedactPath(p string) string {
	for _, pre := range secretPaths {
		if strings.HasPrefix(p, pre) && len(p) > len(pre) {
			return pre + "…"
		}
	}
	return p
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// LogRequests logs one line per request (method, redacted path without the
// query, status, size, duration, peer address).
func LogRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return LogRequestsFrom(logger, nil, next)
}

// LogRequestsFrom is LogRequests for a server behind reverse proxies: when
// clientIP (see ClientIPFrom) finds a client other than the peer, the line
// also has a "client" field. A nil clientIP is ClientIP.
func LogRequestsFrom(logger *slog.Logger, clientIP func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		attrs := []any{"method", r.Method, "path", RedactPath(r.URL.Path),
			"status", sw.status, "bytes", sw.bytes, "duration", time.Since(start).Round(time.Microsecond),
			"remote", r.RemoteAddr}
		if clientIP != nil {
			if ip := clientIP(r); ip != ClientIP(r) {
				attrs = append(attrs, "client", ip)
			}
		}
		logger.Log(r.Context(), level, "request", attrs...)
	})
}

// Recover turns a panic in next into a logged error and a 500 page.
func Recover(rd *Renderer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				rd.WriteError(w, r, Errorf(EInternal, "panic: %v\n%s", v, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
