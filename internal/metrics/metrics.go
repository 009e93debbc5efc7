// Package metrics defines sesame's Prometheus metrics, on a registry of its
// own, and the small hooks other packages call. Everything is measured at
// the edges: an HTTP middleware (latency by route pattern and status, and
// logins by outcome from the login routes' answers), a wrapper of the mail
// sender, and a collector that asks the store about the jobs at scrape time,
// so that other packages stay unaware of Prometheus. The list of metrics is
// in docs/operations.md.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sesame/internal/mail"
)

// Metrics holds the registry and the metrics sesame updates itself.
type Metrics struct {
	reg      *prometheus.Registry
	http     *prometheus.HistogramVec
	logins   *prometheus.CounterVec
	hashBusy prometheus.Counter
	imports  *prometheus.CounterVec
	emails   *prometheus.CounterVec
}

// New returns the metrics on a fresh registry, with the Go runtime's and
// the process's collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sesame_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern, method and status code.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "code"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_logins_total",
			Help: "Password login attempts by outcome: success, failure, refused (rate limited or no hash slot), forbidden (no access to the service, or a cross-origin post).",
		}, []string{"outcome"}),
		hashBusy: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sesame_password_hash_busy_total",
			Help: "Requests refused because no password-hashing slot came free in time (503 on a login or account form).",
		}),
		imports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_imports_total",
			Help: "Spreadsheet imports through the web pages, by step (preview, apply) and result (ok, error).",
		}, []string{"step", "result"}),
		emails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_emails_total",
			Help: "Emails handed to the mail server, by result: sent, failed.",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.http, m.logins, m.hashBusy, m.imports, m.emails,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, o := range []string{"success", "failure", "refused", "forbidden"} {
		m.logins.WithLabelValues(o)
	}
	for _, step := range []string{"preview", "apply"} {
		m.imports.WithLabelValues(step, "ok")
		m.imports.WithLabelValues(step, "error")
	}
	for _, r := range []string{"sent", "failed"} {
		m.emails.WithLabelValues(r)
	}
	return m
}

// Registry is the registry the metrics are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	return mux
}

// statusWriter records the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware measures every request next answers, labelled by the route
// pattern the ServeMux matched (r.Pattern: bounded, never the raw path),
// and derives login outcomes and hash-slot refusals from the answers of
// the password forms. next must be the ServeMux itself, which sets
// r.Pattern on the request it is given. Nil-safe: a nil m returns next.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.http.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(code)).Observe(time.Since(start).Seconds())
		if r.Method != http.MethodPost {
			return
		}
		if code == http.StatusServiceUnavailable && passwordForm(route) {
			m.hashBusy.Inc()
		}
		if loginRoute(route) {
			switch {
			case code == http.StatusSeeOther || code == http.StatusFound:
				m.logins.WithLabelValues("success").Inc()
			case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
				m.logins.WithLabelValues("refused").Inc()
			case code == http.StatusForbidden:
				m.logins.WithLabelValues("forbidden").Inc()
			case code < 500:
				m.logins.WithLabelValues("failure").Inc()
			}
		}
		if step := importStep(route); step != "" {
			result := "ok"
			if code >= 400 {
				result = "error"
			}
			m.imports.WithLabelValues(step, result).Inc()
		}
	})
}

// methodLabel is the method label of a request: one of HTTP's methods, or
// "other". The server accepts any token as a method, and a label taken from
// the request as it came would let anyone on the public listener add series
// (each a histogram) without end.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// importStep names the import step a route posts: the upload (preview)
// or the confirmation (apply); "" for any other route.
func importStep(route string) string {
	switch {
	case strings.HasSuffix(route, "/import"):
		return "preview"
	case strings.Contains(route, "/import/") && strings.HasSuffix(route, "/confirm"):
		return "apply"
	}
	return ""
}

// loginRoute reports whether route is a password login form's target: the
// provider's login (after authorize) and the portal's sign-in.
func loginRoute(route string) bool {
	_, path, _ := strings.Cut(route, " ")
	if path == "" {
		path = route
	}
	return strings.HasSuffix(path, "/login") || strings.HasSuffix(path, "/signin")
}

// passwordForm reports whether route posts a password to be hashed.
func passwordForm(route string) bool {
	return loginRoute(route) || strings.Contains(route, "/activate") || strings.Contains(route, "/reset") || strings.Contains(route, "/password")
}

// Sender wraps s so that every message it sends is counted. Nil-safe.
func (m *Metrics) Sender(s mail.Sender) mail.Sender {
	if m == nil {
		return s
	}
	return &countingSender{s: s, m: m}
}

type countingSender struct {
	s mail.Sender
	m *Metrics
}

func (c *countingSender) Send(ctx context.Context, msgs ...mail.Message) error {
	err := c.s.Send(ctx, msgs...)
	failed := 0
	if err != nil {
		failed = len(msgs)
		var joined interface{ Unwrap() []error }
		if errors.As(err, &joined) && len(joined.Unwrap()) < len(msgs) {
			failed = len(joined.Unwrap())
		}
	}
	c.m.emails.WithLabelValues("sent").Add(float64(len(msgs) - failed))
	c.m.emails.WithLabelValues("failed").Add(float64(failed))
	return err
}

// SendEach keeps the batch path of the sender it wraps (one SMTP
// connection for a batch, see mail.SendEach), counting each result.
func (c *countingSender) SendEach(ctx context.Context, msgs []mail.Message) []error {
	errs := mail.SendEach(ctx, c.s, msgs)
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	c.m.emails.WithLabelValues("sent").Add(float64(len(msgs) - failed))
	c.m.emails.WithLabelValues("failed").Add(float64(failed))
	return errs
}
