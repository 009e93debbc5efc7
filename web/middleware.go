package web

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

// ContentSecurityPolicy is sent with every page: only our own files, no
// inline script or style, no framing, forms only to ourselves.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

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

// ClientIP returns the address a request came from: RemoteAddr's host. A
// deployment behind a reverse proxy sets Account.ClientIP to read the
// proxy's header instead.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// LimitByIP refuses with 429 the requests of next whose client IP has no
// token left in l.
func LimitByIP(rd *Renderer, l *RateLimiter, ip func(*http.Request) string, next http.Handler) http.Handler {
	if ip == nil {
		ip = ClientIP
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := l.Allow("ip:" + ip(r)); !ok {
			rd.WriteError(w, r, &Error{Code: ETooMany, RetryAfter: wait,
				Err: fmt.Errorf("rate limit per IP for %s", ip(r))})
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
// query, status, size, duration, client address).
func LogRequests(logger *slog.Logger, next http.Handler) http.Handler {
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
		logger.Log(r.Context(), level, "request", "method", r.Method, "path", RedactPath(r.URL.Path),
			"status", sw.status, "bytes", sw.bytes, "duration", time.Since(start).Round(time.Microsecond),
			"remote", r.RemoteAddr)
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
