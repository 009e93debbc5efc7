package web_test

import (
	"net/http"
	"testing"
)

// The home page says, in French first, how to log in and where to go when
// stuck; an unknown address gets a page with the same ways out, not a bare
// "404 page not found".
func TestHomeAndUnknownPages(t *testing.T) {
	e := newEnv(t)
	r := e.get("/")
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, `<html lang="fr">`, "Vos accès", "choisissez la connexion par sesame", `href="/forgot"`, `href="/resend"`,
		"référente")
	if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Frame-Options") == "" {
		t.Errorf("the home page lacks the security headers: %v", r.header)
	}
	en := e.get("/", "Accept-Language", "en-GB,en;q=0.8")
	mustStatus(t, en, http.StatusOK)
	mustContain(t, en, `<html lang="en">`, "Your access", "log in with sesame", `href="/forgot"`)

	for _, path := range []string{"/nope", "/activate", "/admin/", "/index.php"} {
		r := e.get(path)
		if r.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, r.status)
			continue
		}
		mustContain(t, r, "Page introuvable", "Cette page n&#39;existe pas", `href="/"`, `href="/forgot"`)
	}
	// A POST to an unknown address is not a form: same page.
	if r := e.post("/nope", nil); r.status != http.StatusNotFound {
		t.Errorf("POST /nope: %d", r.status)
	}
}
