package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/oauth2"

	"sesame/internal/testenv"
)

// TestMetricsScrape runs "sesame serve" with metrics.listen set, imports a
// person (whose activation email the jobs send), logs her in through the
// real flow and fails once with a wrong password, then scrapes /metrics
// with a plain HTTP client: the text parses, holds every metric
// docs/operations.md's table lists (and no sesame_ metric the page does not name), and
// counts what was done. The public address does not serve /metrics; a
// metrics address already taken stops serve at start.
func TestMetricsScrape(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mp := testenv.StartMailpit(t)
	bin := buildBinary(t)
	port, mport, rpPort := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)
	redirect := fmt.Sprintf("http://127.0.0.1:%d/cb", rpPort)
	env := cleanEnv(
		"SESAME_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
		fmt.Sprintf("SESAME_LISTEN=127.0.0.1:%d", port),
		fmt.Sprintf("SESAME_METRICS_LISTEN=127.0.0.1:%d", mport),
		"SESAME_PUBLIC_URL="+base,
		"SESAME_JOBS_POLL_INTERVAL=50ms",
		"SESAME_MAIL_DRIVER=smtp",
		"SESAME_MAIL_SMTP_HOST="+mp.SMTPHost,
		fmt.Sprintf("SESAME_MAIL_SMTP_PORT=%d", mp.SMTPPort),
		"SESAME_MAIL_SMTP_TLS=none",
		"SESAME_MAIL_FROM=sesame <sesame@hoster.example>",
	)
	e2eRun(t, bin, env, "migrate")
	e2eRun(t, bin, env, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "referente@le-beta.example")
	out := e2eRun(t, bin, env, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud",
		"--url", "https://nc.example", "--redirect-uri", redirect)
	clientID, secret := e2eClientCredentials(t, out)
	e2eRun(t, bin, env, "service", "add", "le-beta", "paheko", "--name", "Paheko",
		"--url", "https://paheko.example", "--paheko-category", "Membres")
	report := parseReport(t, e2eRun(t, bin, env, "import", "le-beta",
		filepath.Join("testdata", "e2e_people.csv"), "--format", "json"))
	username, email := report.Rows[0].Username, report.Rows[0].Email

	srv := startE2EServer(t, bin, env, base)
	// Before anything ran: the imported person's jobs are in the queue.
	fams := scrape(t, metricsURL)
	if n := sumOf(fams["sesame_jobs"], nil); n < 1 {
		t.Errorf("sesame_jobs sums to %v after an import, want at least 1", n)
	}

	msg := e2eWaitForMail(t, mp, email, "choisissez votre mot de passe", nil)
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/activate/[A-Za-z0-9_-]+`).FindString(msg.Text)
	b := newE2EBrowser(t, base)
	page := b.get(link)
	b.post(page.formAction(t), url.Values{"password": {e2ePassword}, "confirm": {e2ePassword}}, base).
		want(http.StatusOK, "Votre compte est activé")

	rp := newE2ERelyingParty(ctx, t, base, clientID, secret, redirect)
	state, verifier := "st-"+e2eRandom(t), oauth2.GenerateVerifier()
	fresh := newE2EBrowser(t, base)
	page = fresh.get(rp.conf.AuthCodeURL(state, oidc.Nonce("n"), oauth2.S256ChallengeOption(verifier)))
	page = fresh.login(page, username, e2ePassword+"x") // a wrong password: the form again
	code := e2eCodeFrom(t, fresh.login(page, username, e2ePassword), redirect, state)
	if _, err := rp.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatal(err)
	}

	// The public address does not serve metrics.
	if code, body := get(t, base+"/metrics"); code != http.StatusNotFound || strings.Contains(body, "sesame_") {
		t.Errorf("the public address answers /metrics: %d\n%.300s", code, body)
	}

	fams = scrape(t, metricsURL)
	documented := documentedMetrics(t)
	notDone := sumOf(fams["sesame_jobs"], nil) - sumOf(fams["sesame_jobs"], map[string]string{"state": "done"})
	for _, name := range documented {
		if name == "sesame_jobs_by_kind" && notDone == 0 {
			continue // no series when every job is done (internal/metrics tests it)
		}
		if fams[name] == nil {
			t.Errorf("documented metric %s is not served", name)
		}
	}
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range fams {
		if strings.HasPrefix(name, "sesame_") && !strings.Contains(string(docs), "`"+name+"`") {
			t.Errorf("metric %s is served but not in docs/operations.md", name)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("the Go and process collectors are missing")
	}
	for outcome, want := range map[string]float64{"success": 1, "failure": 1} {
		if got := sumOf(fams["sesame_logins_total"], map[string]string{"outcome": outcome}); got != want {
			t.Errorf("sesame_logins_total{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
	if got := sumOf(fams["sesame_emails_total"], map[string]string{"result": "sent"}); got < 2 {
		t.Errorf("sesame_emails_total{result=\"sent\"} = %v, want at least 2 (activation, password changed)", got)
	}
	if got := sumOf(fams["sesame_jobs"], map[string]string{"state": "done"}); got < 1 {
		t.Errorf("sesame_jobs{state=\"done\"} = %v, want at least 1", got)
	}
	if got := sumOf(fams["sesame_jobs_scrape_success"], nil); got != 1 {
		t.Errorf("sesame_jobs_scrape_success = %v", got)
	}
	// The login POST is measured under its route pattern, never a raw path.
	routes := map[string]bool{}
	for _, m := range fams["sesame_http_request_duration_seconds"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" {
				routes[l.GetValue()] = true
			}
		}
	}
	if !routes["/login"] {
		t.Errorf("no latency for route /login; routes: %v", routes)
	}
	for r := range routes {
		if strings.Contains(r, "/activate/") && !strings.Contains(r, "{") {
			t.Errorf("a raw path (with its secret) became a route label: %s", r)
		}
	}
	srv.stop()

	// A metrics address already in use: serve stops at start, naming it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(env[:len(env):len(env)], "SESAME_METRICS_LISTEN="+l.Addr().String())
	busy, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(busy), "metrics.listen") {
		t.Fatalf("serve with a taken metrics address: %v\n%s", err, busy)
	}
}

// scrape GETs url and parses the Prometheus text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %s %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the metrics do not parse: %v", err)
	}
	return fams
}

// sumOf adds the values of f's series whose labels include want.
func sumOf(f *dto.MetricFamily, want map[string]string) float64 {
	var sum float64
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && labels[k] == v
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		}
	}
	return sum
}

// documentedMetrics lists the sesame_ metric names of docs/operations.md's
// metrics table.
func documentedMetrics(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(sesame_[a-z_]+)` \\|").FindAllStringSubmatch(string(b), -1) {
		names = append(names, m[1])
	}
	if len(names) < 8 {
		t.Fatalf("docs/operations.md lists %d metrics", len(names))
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
