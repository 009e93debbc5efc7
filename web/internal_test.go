package web

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/password"
	"sesame/internal/store"
)

func TestRendererNeedsEveryTemplate(t *testing.T) {
	full := fstest.MapFS{}
	err := fs.WalkDir(Templates(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(Templates(), path)
		full[path] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewRenderer(full, nil); err != nil {
		t.Fatalf("complete set: %v", err)
	}
	for _, name := range append([]string{"layout"}, PageNames...) {
		fsys := fstest.MapFS{}
		for k, v := range full {
			if k != name+".html" {
				fsys[k] = v
			}
		}
		if _, err := NewRenderer(fsys, nil); err == nil {
			t.Errorf("no error without %s.html", name)
		}
	}
	broken := fstest.MapFS{}
	for k, v := range full {
		broken[k] = v
	}
	broken["error.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{.Nope`)}
	if _, err := NewRenderer(broken, nil); err == nil {
		t.Error("no error for a broken template")
	}
	if _, err := NewRenderer(full, nil, "nope"); err == nil {
		t.Error("no error for a missing extra page")
	}
}

func TestErrorCodes(t *testing.T) {
	for err, want := range map[error]int{
		store.ErrNotFound:                    404,
		store.ErrConflict:                    409,
		store.ErrInvalid:                     400,
		password.ErrBusy:                     503,
		errors.New("boom"):                   500,
		Errorf(ETooMany, "x"):                429,
		Errorf(EForbidden, "x"):              403,
		&Error{Code: EInvalid, Err: io.EOF}:  400,
		fmt.Errorf("x: %w", ErrFormTooLarge): 413,
		fmt.Errorf("x: %w", ErrQueryTooLong): 414,
	} {
		if got := HTTPStatus(ErrorCode(err)); got != want {
			t.Errorf("%v: status %d, want %d", err, got, want)
		}
	}
	rd, err := NewRenderer(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// Details never reach the client, in HTML or JSON.
	for _, accept := range []string{"text/html", "application/json", ""} {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header.Set("Accept", accept)
		w := httptest.NewRecorder()
		rd.WriteError(w, req, errors.New("secret database detail"))
		if w.Code != 500 || strings.Contains(w.Body.String(), "secret database detail") {
			t.Errorf("accept %q: %d %s", accept, w.Code, w.Body)
		}
		json := strings.HasPrefix(w.Header().Get("Content-Type"), "application/json")
		if json != (accept == "application/json") {
			t.Errorf("accept %q gave %s", accept, w.Header().Get("Content-Type"))
		}
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewRateLimiter(2, 10*time.Second, func() time.Time { return now })
	for i := range 2 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 10*time.Second {
		t.Fatalf("third: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key is limited")
	}
	now = now.Add(4 * time.Second)
	if ok, wait := l.Allow("a"); ok || wait != 6*time.Second {
		t.Fatalf("after 4s: %v %v", ok, wait)
	}
	now = now.Add(6 * time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("not refilled after 10s")
	}
	// Full buckets are forgotten.
	now = now.Add(time.Hour)
	l.Allow("c")
	if n := l.Len(); n != 1 {
		t.Fatalf("%d buckets kept, want 1", n)
	}
}

func TestRedactPath(t *testing.T) {
	for in, want := range map[string]string{"/activate/abc": "/activate/…", "/reset/x/y": "/reset/…",
		"/forgot": "/forgot", "/activate/": "/activate/"} {
		if got := RedactPath(in); got != want {
			t.Errorf("RedactPath(%q) = %q", in, got)
		}
	}
}

func TestLogRequestsRedactsAndRecoverCatches(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	rd, err := NewRenderer(nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	h := LogRequests(logger, Recover(rd, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") })))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/activate/TOPSECRET?lang=en", nil))
	if w.Code != 500 || strings.Contains(w.Body.String(), "kaboom") {
		t.Fatalf("panic answer: %d %s", w.Code, w.Body)
	}
	if strings.Contains(buf.String(), "TOPSECRET") || !strings.Contains(buf.String(), "kaboom") {
		t.Fatalf("log: %s", buf.String())
	}
}

func TestLangOrder(t *testing.T) {
	for _, c := range []struct{ url, cookie, accept, want string }{
		{"/", "", "", "fr"},
		{"/", "", "en-US,en;q=0.8", "en"},
		{"/", "", "de, en;q=0.5", "en"},
		{"/", "", "it", "fr"},
		{"/", "en", "fr", "en"},
		{"/?lang=fr", "en", "en", "fr"},
		{"/?lang=de", "", "", "fr"},
	} {
		r := httptest.NewRequest(http.MethodGet, c.url, nil)
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: LangCookie, Value: c.cookie})
		}
		if c.accept != "" {
			r.Header.Set("Accept-Language", c.accept)
		}
		if got := Lang(r); got != c.want {
			t.Errorf("%+v: %s", c, got)
		}
	}
	if !slices.Contains(Languages, DefaultLanguage) {
		t.Fatal("default language not supported")
	}
}

func BenchmarkRateLimiterAllow(b *testing.B) {
	l := NewRateLimiter(10, time.Second, nil)
	keys := []string{"ip:192.0.2.1", "ip:192.0.2.2", "ip:192.0.2.3", "ip:192.0.2.4"}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(keys[i%len(keys)])
			i++
		}
	})
}

func BenchmarkRenderPasswordForm(b *testing.B) {
	rd, err := NewRenderer(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/activate/x", nil)
	v := &formView{Purpose: "activate", Action: "/activate/x", Person: store.Person{Username: "alice.martin",
		Email: "alice@example.org"}, Name: "Alice Martin", FirstName: "Alice", Structures: []string{"Le Bêta"},
		Services: []serviceView{{Name: "Nextcloud", URL: "https://cloud.example", Role: "user"}}, MinLength: 10}
	for b.Loop() {
		rd.Render(httptest.NewRecorder(), req, 200, "password_form", &Page{Title: i18n.ActivateTitle, Data: v})
	}
}

// The language switch leads to the same page: the request's path with its
// query (byte for byte, lang first) on a GET, the path alone after a POST,
// or the page's own address; never to another site.
func TestSwitchURL(t *testing.T) {
	for _, c := range []struct {
		name, method, target, here, want string
	}{
		{"plain", "GET", "/forgot", "", "/forgot?lang=en"},
		{"replaces lang", "GET", "/forgot?lang=fr", "", "/forgot?lang=en"},
		{"every lang", "GET", "/forgot?lang=fr&x=1&lang=de", "", "/forgot?lang=en&x=1"},
		{"query kept byte for byte", "GET", "/logout?client_id=nc&post_logout_redirect_uri=https://nc.example/out?from=sesame&state=a%20b", "",
			"/logout?lang=en&client_id=nc&post_logout_redirect_uri=https://nc.example/out?from=sesame&state=a%20b"},
		{"head", "HEAD", "/forgot?x=1", "", "/forgot?lang=en&x=1"},
		{"after a post", "POST", "/forgot?x=1", "", "/forgot?lang=en"},
		{"the page's own address", "POST", "/login", "/login?req=abc", "/login?lang=en&req=abc"},
		{"here with lang", "GET", "/authorize?client_id=x", "/login?lang=fr&req=abc", "/login?lang=en&req=abc"},
		{"escaped path", "GET", "/activate/a%2Fb", "", "/activate/a%2Fb?lang=en"},
		{"absolute here ignored", "GET", "/forgot", "https://evil.example/x", "/forgot?lang=en"},
		{"scheme-relative here ignored", "GET", "/forgot", "//evil.example/x", "/forgot?lang=en"},
		{"relative here", "GET", "/forgot", "login?req=x", "/?lang=en&req=x"},
		{"another site's path", "GET", "//evil.example/x", "", "/?lang=en"},
		{"backslash path", "GET", "/\\evil.example/x", "", "/%5Cevil.example/x?lang=en"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, "http://sesame.example/", nil)
			u, err := url.ParseRequestURI(c.target)
			if err != nil {
				t.Fatal(err)
			}
			r.URL = u
			if got := switchURL(r, c.here, "en"); got != c.want {
				t.Errorf("switchURL(%s %s, %q) = %q, want %q", c.method, c.target, c.here, got, c.want)
			}
		})
	}
}

// The login form is answered by a redirect to the service, so its page's
// form-action names the service's origin, and nothing else can get in.
func TestContentSecurityPolicyFor(t *testing.T) {
	base := ContentSecurityPolicy
	if got := ContentSecurityPolicyFor(); got != base {
		t.Fatalf("no origin: %q, want %q", got, base)
	}
	for _, c := range []struct {
		name    string
		origins []string
		want    string // form-action's sources
	}{
		{"redirect URI", []string{"https://app.example/callback?x=1"}, "'self' https://app.example"},
		{"port and upper case", []string{"http://127.0.0.1:8080/cb", "https://WP.Example/"}, "'self' http://127.0.0.1:8080 https://wp.example"},
		{"duplicates", []string{"https://a.example/x", "https://a.example/y"}, "'self' https://a.example"},
		{"ipv6", []string{"https://[2001:db8::1]:8443/cb"}, "'self' https://[2001:db8::1]:8443"},
		{"not http", []string{"javascript:alert(1)", "ftp://a.example/", "data:text/html,x"}, "'self'"},
		{"no host", []string{"", "/relative", "https:///x"}, "'self'"},
		{"user info", []string{"https://user:pw@a.example/"}, "'self'"},
		{"policy injection", []string{"https://a.example;script-src *", "https://a.example%3Bscript-src/"}, "'self'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ContentSecurityPolicyFor(c.origins...)
			want := strings.Replace(base, "form-action 'self'", "form-action "+c.want, 1)
			if got != want {
				t.Errorf("ContentSecurityPolicyFor(%q) =\n%q, want\n%q", c.origins, got, want)
			}
		})
	}
}

// An error page that knows where the person came from offers the way back
// to the service, another account and the structure's contact, besides
// sesame's own pages; its title and sentence can be the caller's.
func TestWriteErrorWithOnward(t *testing.T) {
	rd, err := NewRenderer(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	on := Onward{Service: "Nextcloud", Back: "https://cloud.example", Switch: "/authorize?client_id=nc&prompt=login",
		Structure: "Le Bêta", Contact: "bureau@lebeta.example"}
	e := &Error{Code: EInvalid, Err: errors.New("detail"), Title: i18n.LoginBadRedirectTitle, Message: i18n.M(i18n.LoginBadRedirect)}
	w := httptest.NewRecorder()
	rd.WriteErrorWith(w, httptest.NewRequest(http.MethodGet, "/authorize?client_id=nc", nil), e, on)
	body := w.Body.String()
	for _, want := range []string{`<html lang="fr">`, "<h1>Adresse de retour refusée</h1>", "pas enregistrée pour ce service",
		`class="structure">Le Bêta<`, `href="https://cloud.example"`, "Retour à Nextcloud",
		`href="/authorize?client_id=nc&amp;prompt=login"`, `href="mailto:bureau@lebeta.example"`, `href="/forgot"`, `href="/"`,
		`href="/authorize?lang=en&amp;client_id=nc"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the error page lacks %q:\n%s", want, body)
		}
	}
	if w.Code != http.StatusBadRequest || strings.Contains(body, "detail") {
		t.Errorf("%d, or the detail is shown:\n%s", w.Code, body)
	}
	// In JSON, the caller's sentence in the person's language.
	r := httptest.NewRequest(http.MethodGet, "/authorize", nil)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Accept-Language", "en")
	w = httptest.NewRecorder()
	rd.WriteErrorWith(w, r, e, on)
	if !strings.Contains(w.Body.String(), `"message":"The return address asked for is not registered for this service."`) {
		t.Errorf("JSON: %s", w.Body)
	}
	// Without an onward, sesame's own ways out only; a rate limit says
	// how long to wait.
	w = httptest.NewRecorder()
	rd.WriteError(w, httptest.NewRequest(http.MethodPost, "/forgot", nil), &Error{Code: ETooMany, RetryAfter: 90 * time.Second})
	body = w.Body.String()
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "90" || !strings.Contains(body, "Réessayez dans 2 minutes.") ||
		strings.Contains(body, "mailto:") || strings.Contains(body, `class="structure"`) || !strings.Contains(body, `href="/forgot"`) {
		t.Errorf("%d %v:\n%s", w.Code, w.Header(), body)
	}
}
