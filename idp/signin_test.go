package idp

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/admin/structures":         "/admin/structures",
		"/admin?state=invited&q=x":  "/admin?state=invited&q=x",
		"":                          "/",
		"admin":                     "/",
		"https://evil.example/":     "/",
		"//evil.example/admin":      "/",
		"/\\evil.example":           "/",
		"\\\\evil.example":          "/",
		"/admin\r\nLocation: x":     "/",
		"javascript:alert(1)":       "/",
		"/%2F%2Fevil.example":       "/",
		"http:/evil.example":        "/",
		"/ok#frag":                  "/ok#frag",
		"///evil.example":           "/",
		"/admin/\x00":               "/",
		"/structures/le-b%C3%AAta/": "/structures/le-b%C3%AAta/",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSignIn: sesame's own sign-in page opens an SSO session that
// CurrentPerson reads, goes only to a local next, and EndOtherSessions and
// SignOut end what they should.
func TestSignIn(t *testing.T) {
	f := newFixture(t, sharedKeys(t))
	newBrowser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	signIn := func(c *http.Client, next, pw string) *http.Response {
		t.Helper()
		resp, err := c.PostForm(f.issuer+"/signin", url.Values{"username": {"alice.martin"}, "password": {pw}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	who := func(c *http.Client) string {
		t.Helper()
		req, _ := http.NewRequest("GET", f.issuer+"/", nil)
		u, _ := url.Parse(f.issuer)
		for _, ck := range c.Jar.Cookies(u) {
			req.AddCookie(ck)
		}
		p, err := f.p.CurrentPerson(req)
		if err != nil {
			return ""
		}
		return p.Username
	}
	a := newBrowser()
	resp, err := a.Get(f.issuer + "/signin?next=%2Fadmin")
	if err != nil {
		t.Fatal(err)
	}
	buf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(buf), `name="next" value="/admin"`) {
		t.Fatalf("sign-in form: %d\n%s", resp.StatusCode, buf)
	}
	if r := signIn(a, "/admin", "wrong"); r.StatusCode != http.StatusUnauthorized || who(a) != "" {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	if r := signIn(a, "//evil.example/", testPassword); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("sign in: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if who(a) != "alice.martin" {
		t.Fatal("no current person after signing in")
	}
	resp, err = a.Get(f.issuer + "/signin?next=%2Fadmin%2Fstructures")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/structures" {
		t.Fatalf("signed in already: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	b := newBrowser()
	signIn(b, "/", testPassword)
	if who(b) != "alice.martin" {
		t.Fatal("second browser not signed in")
	}
	req, _ := http.NewRequest("GET", f.issuer+"/", nil)
	u, _ := url.Parse(f.issuer)
	for _, ck := range a.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	if err := f.p.EndOtherSessions(context.Background(), req, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	if who(a) != "alice.martin" || who(b) != "" {
		t.Fatalf("after EndOtherSessions: a=%q b=%q", who(a), who(b))
	}
	rec := &headerRecorder{h: http.Header{}}
	if err := f.p.SignOut(rec, req); err != nil {
		t.Fatal(err)
	}
	if who(a) != "" {
		t.Fatal("still signed in after SignOut")
	}
	if !strings.Contains(rec.h.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("SignOut did not clear the cookie: %q", rec.h.Get("Set-Cookie"))
	}
}

type headerRecorder struct{ h http.Header }

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *headerRecorder) WriteHeader(int)             {}
