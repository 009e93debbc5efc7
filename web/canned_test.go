package web_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sesame/internal/i18n"
	"sesame/web"
)

// A canned error answers what WriteErrorWith would, byte for byte, in the
// asker's language, and logs one line per LogEvery with the count of
// answers instead of one per request.
func TestCannedError(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	rd, err := web.NewRenderer(nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	busy := &web.Error{Code: web.EUnavailable, Err: errors.New("hashes saturated"), RetryAfter: 2 * time.Second,
		Title: i18n.LoginUnavailableTitle, Message: i18n.M(i18n.LoginBusy)}
	canned := rd.Canned(busy, web.Onward{})
	canned.LogEvery = time.Hour
	post := func(lang, query string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/login"+query, strings.NewReader("password=x"))
		r.Header.Set("Accept-Language", lang)
		return r
	}
	for _, c := range []struct{ lang, query, want string }{
		{"fr", "", "Content-Language: fr"},
		{"en", "", "Content-Language: en"},
		{"fr", "", "Content-Language: fr"}, // from the cache
		{"en", "?lang=fr", "Content-Language: fr"},
	} {
		want := httptest.NewRecorder()
		rd.WriteErrorWith(want, post(c.lang, c.query), busy, web.Onward{})
		for range 3 {
			got := httptest.NewRecorder()
			canned.Write(got, post(c.lang, c.query))
			if got.Code != http.StatusServiceUnavailable || got.Header().Get("Retry-After") != "2" {
				t.Fatalf("%+v: status %d, Retry-After %q", c, got.Code, got.Header().Get("Retry-After"))
			}
			if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Fatalf("%+v: the canned page differs from the rendered one:\n%s\n---\n%s", c, got.Body, want.Body)
			}
			var h strings.Builder
			_ = got.Header().Write(&h)
			var wh strings.Builder
			_ = want.Header().Write(&wh)
			if h.String() != wh.String() || !strings.Contains(h.String(), c.want) {
				t.Fatalf("%+v: headers\n%s\nwant\n%s", c, h.String(), wh.String())
			}
		}
	}
	// The JSON answer is canned apart from the page.
	r := post("en", "")
	r.Header.Set("Accept", "application/json")
	got := httptest.NewRecorder()
	canned.Write(got, r)
	if !strings.HasPrefix(got.Header().Get("Content-Type"), "application/json") || !strings.Contains(got.Body.String(), `"code":"unavailable"`) {
		t.Fatalf("JSON refusal: %s %s", got.Header().Get("Content-Type"), got.Body)
	}
	// 4 WriteErrorWith lines, and a single line for the 13 canned answers.
	lines := strings.Count(logs.String(), "\n")
	if n := strings.Count(logs.String(), "answers_since_last_line=1\n"); lines != 5 || n != 1 {
		t.Fatalf("%d log lines (%d canned), want 5 (1):\n%s", lines, n, logs.String())
	}
}
