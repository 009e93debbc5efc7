package web

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
