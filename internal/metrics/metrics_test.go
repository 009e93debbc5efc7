package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"sesame/internal/mail"
	"sesame/internal/metrics"
	"sesame/internal/store"
	"sesame/internal/store/sqlite"
)

// TestJobsCollector reads a real store: totals by state, the kinds of the
// jobs not done, and the age of the oldest; a store that fails reports
// sesame_jobs_scrape_success 0 rather than failing the scrape.
func TestJobsCollector(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"ldap.person", "ldap.person", "mail.activate", "mail.reset"} {
		if _, err := db.EnqueueJob(ctx, &store.Job{Kind: kind, Payload: []byte("{}"), RunAfter: time.Now().Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	js, err := db.ClaimJobs(ctx, store.ClaimRequest{Kinds: []string{"mail.reset"}, Limit: 1, Lease: time.Minute})
	if err != nil || len(js) != 1 {
		t.Fatal(js, err)
	}
	if err := db.BuryJob(ctx, js[0].ID, js[0].LeaseID, "smtp: 550"); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	m.WatchJobs(db)
	want := `
# HELP sesame_jobs Jobs in the queue by state (exact).
# TYPE sesame_jobs gauge
sesame_jobs{state="dead"} 1
sesame_jobs{state="done"} 0
sesame_jobs{state="pending"} 3
sesame_jobs{state="running"} 0
# HELP sesame_jobs_by_kind Jobs not done by kind and state (the oldest 5000 of each state).
# TYPE sesame_jobs_by_kind gauge
sesame_jobs_by_kind{kind="ldap.person",state="pending"} 2
sesame_jobs_by_kind{kind="mail.activate",state="pending"} 1
sesame_jobs_by_kind{kind="mail.reset",state="dead"} 1
# HELP sesame_jobs_scrape_success 1 when the store answered the jobs collector, 0 otherwise.
# TYPE sesame_jobs_scrape_success gauge
sesame_jobs_scrape_success 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "sesame_jobs", "sesame_jobs_by_kind", "sesame_jobs_scrape_success"); err != nil {
		t.Fatal(err)
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "sesame_jobs_oldest_age_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			if s.GetLabel()[0].GetValue() == "pending" && s.GetGauge().GetValue() < 59 {
				t.Errorf("oldest pending job overdue by %v s, want about 60", s.GetGauge().GetValue())
			}
		}
	}

	// A closed store: the scrape still answers, saying the jobs are unknown.
	_ = db.Close()
	want = `
# HELP sesame_jobs_scrape_success 1 when the store answered the jobs collector, 0 otherwise.
# TYPE sesame_jobs_scrape_success gauge
sesame_jobs_scrape_success 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "sesame_jobs_scrape_success"); err != nil {
		t.Fatal(err)
	}
}

// TestMiddleware labels requests by route pattern, counts login outcomes
// from the answers, hash-slot refusals, and import steps.
func TestMiddleware(t *testing.T) {
	m := metrics.New()
	mux := http.NewServeMux()
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
	}
	mux.Handle("/login", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.FormValue("p") {
		case "ok":
			w.WriteHeader(http.StatusSeeOther)
		case "busy":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	mux.Handle("POST /admin/structures/{slug}/import", status(http.StatusOK))
	mux.Handle("POST /admin/structures/{slug}/import/{id}/confirm", status(http.StatusSeeOther))
	mux.Handle("GET /activate/{token}", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hi")) }))
	h := m.Middleware(mux)
	for _, u := range []string{"/login?p=ok", "/login?p=bad", "/login?p=bad", "/login?p=busy",
		"/admin/structures/x/import", "/admin/structures/x/import/i1/confirm"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, u, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/activate/SECRET", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	want := `
# HELP sesame_logins_total Password login attempts by outcome: success, failure, refused (rate limited or no hash slot), forbidden (no access to the service, or a cross-origin post).
# TYPE sesame_logins_total counter
sesame_logins_total{outcome="failure"} 2
sesame_logins_total{outcome="forbidden"} 0
sesame_logins_total{outcome="refused"} 1
sesame_logins_total{outcome="success"} 1
# HELP sesame_password_hash_busy_total Requests refused because no password-hashing slot came free in time (503 on a login or account form).
# TYPE sesame_password_hash_busy_total counter
sesame_password_hash_busy_total 1
# HELP sesame_imports_total Spreadsheet imports through the web pages, by step (preview, apply) and result (ok, error).
# TYPE sesame_imports_total counter
sesame_imports_total{result="error",step="apply"} 0
sesame_imports_total{result="error",step="preview"} 0
sesame_imports_total{result="ok",step="apply"} 1
sesame_imports_total{result="ok",step="preview"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "sesame_logins_total", "sesame_password_hash_busy_total", "sesame_imports_total"); err != nil {
		t.Fatal(err)
	}
	fams, _ := m.Registry().Gather()
	routes := map[string]int{}
	for _, f := range fams {
		if f.GetName() != "sesame_http_request_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "route" {
					routes[l.GetValue()] += int(s.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	if routes["/login"] != 4 || routes["GET /activate/{token}"] != 1 || routes["unmatched"] != 1 {
		t.Errorf("routes = %v", routes)
	}
	for r := range routes {
		if strings.Contains(r, "SECRET") {
			t.Errorf("a raw path became a label: %s", r)
		}
	}
	// A nil Metrics (metrics off) leaves handlers and senders as they are.
	var off *metrics.Metrics
	if off.Middleware(mux) == nil || off.Sender(nil) != nil {
		t.Error("nil Metrics changed the handler or the sender")
	}
	off.WatchJobs(nil)
}

type fakeSender struct{ err error }

func (f fakeSender) Send(context.Context, ...mail.Message) error { return f.err }

// TestSender counts sent and failed messages, including a partial failure.
func TestSender(t *testing.T) {
	m := metrics.New()
	ctx := context.Background()
	_ = m.Sender(fakeSender{}).Send(ctx, mail.Message{}, mail.Message{})
	_ = m.Sender(fakeSender{err: errors.New("down")}).Send(ctx, mail.Message{})
	_ = m.Sender(fakeSender{err: errors.Join(errors.New("550"))}).Send(ctx, mail.Message{}, mail.Message{}, mail.Message{})
	want := `
# HELP sesame_emails_total Emails handed to the mail server, by result: sent, failed.
# TYPE sesame_emails_total counter
sesame_emails_total{result="failed"} 2
sesame_emails_total{result="sent"} 4
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "sesame_emails_total"); err != nil {
		t.Fatal(err)
	}
}

// batchSender answers SendEach with the results it holds, and counts the
// batches it got.
type batchSender struct {
	fakeSender
	errs    []error
	batches *int
}

func (b batchSender) SendEach(_ context.Context, msgs []mail.Message) []error {
	*b.batches++
	return b.errs[:len(msgs)]
}

// TestSenderKeepsBatches: the counting wrapper passes a batch to a batch
// sender whole (one SMTP connection), counting each message's result.
func TestSenderKeepsBatches(t *testing.T) {
	m := metrics.New()
	n := 0
	s := m.Sender(batchSender{errs: []error{nil, errors.New("550"), nil}, batches: &n})
	if _, ok := s.(mail.BatchSender); !ok {
		t.Fatal("the wrapper hides the batch sender")
	}
	errs := mail.SendEach(context.Background(), s, make([]mail.Message, 3))
	if n != 1 || len(errs) != 3 || errs[1] == nil {
		t.Fatalf("%d batches, results %v", n, errs)
	}
	want := `
# HELP sesame_emails_total Emails handed to the mail server, by result: sent, failed.
# TYPE sesame_emails_total counter
sesame_emails_total{result="failed"} 1
sesame_emails_total{result="sent"} 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "sesame_emails_total"); err != nil {
		t.Fatal(err)
	}
}

// TestHashes reads a hasher's figures at scrape time.
func TestHashes(t *testing.T) {
	m := metrics.New()
	m.WatchHashes(func() metrics.HashStats {
		return metrics.HashStats{Slots: 2, InFlight: 2, Waiting: 3, Waited: 10, Refused: 4}
	})
	want := `
# HELP sesame_password_hash_refused_total Requests refused because no hash slot came free in time or the queue was full.
# TYPE sesame_password_hash_refused_total counter
sesame_password_hash_refused_total 4
# HELP sesame_password_hash_waits_total Requests that queued for a hash slot before getting one.
# TYPE sesame_password_hash_waits_total counter
sesame_password_hash_waits_total 10
# HELP sesame_password_hashes_in_flight Password hashes running now.
# TYPE sesame_password_hashes_in_flight gauge
sesame_password_hashes_in_flight 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"sesame_password_hash_refused_total", "sesame_password_hash_waits_total", "sesame_password_hashes_in_flight"); err != nil {
		t.Fatal(err)
	}
	var off *metrics.Metrics
	off.WatchHashes(nil)
	m.WatchHashes(nil)
}

// TestMiddlewareMethodBounded: the method label comes from the request, and
// Go's server takes any token as a method. Made-up methods (from anyone who
// reaches the public listener) must not each add a series: they are counted
// under "other", and a real method keeps its name.
func TestMiddlewareMethodBounded(t *testing.T) {
	m := metrics.New()
	mux := http.NewServeMux()
	mux.Handle("/login", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	h := m.Middleware(mux)
	for i := range 50 {
		for _, u := range []string{"/login", "/nowhere"} {
			req := httptest.NewRequest(http.MethodGet, u, nil)
			req.Method = "X-ALICE-EXAMPLE-ORG-" + strings.Repeat("A", i)
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/login", nil))
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]bool{}
	series := 0
	for _, f := range fams {
		if f.GetName() != "sesame_http_request_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			series++
			for _, l := range s.GetLabel() {
				if l.GetName() == "method" {
					methods[l.GetValue()] = true
				}
			}
		}
	}
	if series > 3 || !methods["other"] || !methods["GET"] || len(methods) != 2 {
		t.Errorf("%d series, methods %v: want the made-up methods under \"other\" (3 series at most)", series, methods)
	}
}
