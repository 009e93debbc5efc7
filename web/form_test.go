package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/web"
)

// padded returns form with a filler field that takes its encoding to about
// 100 KiB, past web.MaxFormBytes.
func padded(form url.Values) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	out.Set("filler", strings.Repeat("a", 100<<10))
	return out
}

// Every account form stops at 64 KiB: a 100 KiB body is answered 413 and
// changes nothing (the link still works, no email is queued), while the
// same form without the filler is accepted.
func TestAccountFormsStopAt64KiB(t *testing.T) {
	e := newEnv(t)
	p := e.person("alice.martin", "alice@example.org", store.StateInvited)
	link := "/activate/" + e.issue(p, store.PurposeActivate)

	r := e.post(link, padded(pw(goodPassword)))
	mustStatus(t, r, http.StatusRequestEntityTooLarge)
	mustContain(t, r, "trop volumineux")
	if got := e.getPerson(p.ID); got.State != store.StateInvited || got.PasswordHash != "" {
		t.Fatalf("a refused form activated the person: %+v", got)
	}
	if n := e.countJobs(jobs.KindLDAPPerson, p.ID); n != 0 {
		t.Errorf("%d directory jobs after a refused form", n)
	}

	active := e.person("bob.durand", "bob@example.org", store.StateActive)
	r = e.post("/forgot", padded(url.Values{"identifier": {"bob@example.org"}}))
	mustStatus(t, r, http.StatusRequestEntityTooLarge)
	if n := len(e.linkJobs(active.ID, store.PurposeReset)); n != 0 {
		t.Errorf("%d reset links queued by a refused form", n)
	}
	r = e.post("/forgot", padded(url.Values{"identifier": {"bob@example.org"}}), "Accept", "application/json")
	mustStatus(t, r, http.StatusRequestEntityTooLarge)
	mustContain(t, r, `"code":"too_large"`)

	// Just under the bound is a form like any other.
	r = e.post(link, pw(goodPassword))
	mustStatus(t, r, http.StatusOK)
	mustStatus(t, e.post("/forgot", url.Values{"identifier": {"bob@example.org"}}), http.StatusOK)
	if n := len(e.linkJobs(active.ID, store.PurposeReset)); n != 1 {
		t.Errorf("%d reset links after a good request, want 1", n)
	}
}

func TestParseFormBounds(t *testing.T) {
	long := strings.Repeat("a", web.MaxFormBytes)
	cases := []struct {
		name, query, body string
		want              int // 0: accepted
	}{
		{"small", "x=1", "y=2", 0},
		{"body at the bound", "", "y=" + long[2:], 0},
		{"body past the bound", "", "y=" + long, http.StatusRequestEntityTooLarge},
		{"query at the bound", "x=" + long[2:], "", 0},
		{"query past the bound", "x=" + long, "", http.StatusRequestURITooLong},
		{"malformed", "", "y=%zz", http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "http://sesame.example/x?"+c.query, strings.NewReader(c.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			err := web.ParseForm(httptest.NewRecorder(), r)
			switch {
			case c.want == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != 0 && err == nil:
				t.Fatalf("accepted, want %d", c.want)
			case c.want != 0 && web.FormStatus(err) != c.want:
				t.Fatalf("status %d (%v), want %d", web.FormStatus(err), err, c.want)
			case c.want != 0 && c.want != http.StatusBadRequest && web.HTTPStatus(web.ErrorCode(err)) != c.want:
				// The one error function answers as FormStatus does.
				t.Fatalf("WriteError's status %d (%v), want %d", web.HTTPStatus(web.ErrorCode(err)), err, c.want)
			case c.want != 0 && len(r.PostForm) > 0:
				t.Fatalf("a refused form was parsed: %d fields", len(r.PostForm))
			}
		})
	}
}
