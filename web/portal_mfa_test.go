package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/mfa"
	"sesame/internal/store"
)

func testMFASecrets(t *testing.T) *mfa.Secrets {
	t.Helper()
	s, err := mfa.NewSecrets([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	portalSecret    = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)
	portalEnrolment = regexp.MustCompile(`name="enrolment" value="([^"]+)"`)
	portalCode      = regexp.MustCompile(`<li><code>([a-z0-9-]{14})</code></li>`)
	portalRemove    = regexp.MustCompile(`name="id" value="([0-9a-f]+)"`)
)

// TestPortalSecondFactor: a member adds an authenticator app from the
// portal (a wrong code keeps the QR code; the first app brings ten
// recovery codes, shown once), renews the codes, and removes the app; a
// referent whose structure requires one cannot remove their last.
func TestPortalSecondFactor(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	s := e.structure("le-beta")
	p := e.person("jean.dupont", store.StateActive, false)
	e.member(p, s, false)

	_, _, body := e.do("GET", "/", &p, nil)
	if !strings.Contains(body, `href="/account/second-factor"`) {
		t.Fatalf("the portal does not offer a second factor:\n%s", body)
	}
	status, _, page := e.do("GET", "/account/second-factor", &p, nil)
	m, en := portalSecret.FindStringSubmatch(page), portalEnrolment.FindStringSubmatch(page)
	if status != 200 || m == nil || en == nil || !strings.Contains(page, "<svg") || !strings.Contains(page, `aria-label="Code QR`) {
		t.Fatalf("enrolment page: %d\n%s", status, page)
	}
	secret, enrolment := strings.ReplaceAll(m[1], " ", ""), html.UnescapeString(en[1])
	status, _, again := e.do("POST", "/account/second-factor", &p, url.Values{"enrolment": {enrolment}, "code": {"000000"}})
	if status != http.StatusUnprocessableEntity || portalSecret.FindString(again) != m[0] {
		t.Fatalf("wrong code: %d (the QR code must stay the same)", status)
	}
	// Another person cannot use this enrolment.
	q := e.person("marie.curie", store.StateActive, false)
	e.member(q, s, false)
	code, _ := mfa.CodeAt(secret, mfa.Step(time.Now()))
	if status, _, _ := e.do("POST", "/account/second-factor", &q, url.Values{"enrolment": {enrolment}, "code": {code}}); status != http.StatusUnprocessableEntity {
		t.Fatalf("someone else's enrolment: %d", status)
	}
	status, _, done := e.do("POST", "/account/second-factor", &p, url.Values{"enrolment": {enrolment}, "code": {code}, "name": {"Téléphone"}})
	codes := portalCode.FindAllStringSubmatch(done, -1)
	if status != 200 || len(codes) != mfa.RecoveryCodes {
		t.Fatalf("after enrolment: %d, %d codes\n%s", status, len(codes), done)
	}
	if n, _ := e.st.CountRecoveryCodes(ctx, p.ID); n != mfa.RecoveryCodes {
		t.Fatalf("%d codes stored", n)
	}
	if entries, _ := e.st.ListAudit(ctx, store.AuditFilter{Action: "person.mfa.enrol"}); len(entries) != 1 ||
		entries[0].Details["kind"] != "totp" || entries[0].Details["via"] != "portal" {
		t.Fatalf("audit of the enrolment: %+v", entries)
	}
	_, _, body = e.do("GET", "/", &p, nil)
	if !strings.Contains(body, "Téléphone") || !strings.Contains(body, "10 sur 10") {
		t.Fatalf("portal after enrolment:\n%s", body)
	}
	// New codes replace the old.
	status, _, renewed := e.do("POST", "/account/second-factor/codes", &p, url.Values{})
	if status != 200 || len(portalCode.FindAllString(renewed, -1)) != mfa.RecoveryCodes {
		t.Fatalf("renew: %d", status)
	}
	if err := e.st.UseRecoveryCode(ctx, p.ID, testMFASecrets(t).HashRecoveryCode(p.ID, codes[0][1]), time.Now()); err == nil {
		t.Fatal("an old recovery code still works")
	}
	// A session opened with a password alone changes nothing: the person
	// proves both factors again first.
	e.sessions.mu.Lock()
	e.sessions.passwordOnly = true
	e.sessions.mu.Unlock()
	id := portalRemove.FindStringSubmatch(body)
	for _, c := range []struct{ method, path, want string }{
		{"POST", "/account/second-factor/remove", "/signin?next=%2F&prompt=login"},
		{"POST", "/account/second-factor/codes", "/signin?next=%2F&prompt=login"},
		{"POST", "/account/second-factor", "/signin?next=%2F&prompt=login"},
		{"GET", "/account/second-factor", "/signin?next=%2Faccount%2Fsecond-factor&prompt=login"},
	} {
		form := url.Values{"id": {id[1]}}
		if c.method == "GET" {
			form = nil
		}
		if status, loc, _ := e.do(c.method, c.path, &p, form); status != http.StatusSeeOther || loc != c.want {
			t.Errorf("%s %s from a password-only session: %d %q", c.method, c.path, status, loc)
		}
	}
	if fs, _ := e.st.ListSecondFactors(ctx, p.ID); len(fs) != 1 {
		t.Fatalf("factors after refused changes: %d", len(fs))
	}
	// Nor does a two-factor session whose sign-in is old (a browser left
	// open for days): the form is asked for within 15 minutes of proving
	// who they are, and posted within that and the QR code's lifetime.
	e.sessions.mu.Lock()
	e.sessions.passwordOnly = false
	e.sessions.authAt = time.Now().Add(-20 * time.Minute)
	e.sessions.mu.Unlock()
	if status, loc, _ := e.do("GET", "/account/second-factor", &p, nil); status != http.StatusSeeOther ||
		loc != "/signin?next=%2Faccount%2Fsecond-factor&prompt=login" {
		t.Errorf("the enrolment form 20 minutes after signing in: %d %q", status, loc)
	}
	e.sessions.mu.Lock()
	e.sessions.authAt = time.Now().Add(-31 * time.Minute)
	e.sessions.mu.Unlock()
	for _, path := range []string{"/account/second-factor/remove", "/account/second-factor/codes", "/account/second-factor"} {
		if status, loc, _ := e.do("POST", path, &p, url.Values{"id": {id[1]}}); status != http.StatusSeeOther || loc != "/signin?next=%2F&prompt=login" {
			t.Errorf("POST %s 31 minutes after signing in: %d %q", path, status, loc)
		}
	}
	if fs, _ := e.st.ListSecondFactors(ctx, p.ID); len(fs) != 1 {
		t.Fatalf("factors after refused changes: %d", len(fs))
	}
	// A person without a factor is held to it too: a stale session does
	// not add one (it would lock them out with someone else's app).
	stale := e.person("marie.stale", store.StateActive, false)
	e.member(stale, s, false)
	if status, loc, _ := e.do("GET", "/account/second-factor", &stale, nil); status != http.StatusSeeOther ||
		!strings.Contains(loc, "prompt=login") {
		t.Errorf("adding a first factor from a stale session: %d %q", status, loc)
	}
	e.sessions.mu.Lock()
	e.sessions.authAt = time.Now().Add(-20 * time.Minute)
	e.sessions.mu.Unlock()

	// Removed (20 minutes after signing in: a form posted in time): the
	// codes go with the last factor.
	if status, loc, _ := e.do("POST", "/account/second-factor/remove", &p, url.Values{"id": {id[1]}}); status != http.StatusSeeOther || loc != "/?done=mfa-removed" {
		t.Fatalf("remove: %d %q", status, loc)
	}
	if fs, _ := e.st.ListSecondFactors(ctx, p.ID); len(fs) != 0 {
		t.Fatalf("factors left: %v", fs)
	}
	if n, _ := e.st.CountRecoveryCodes(ctx, p.ID); n != 0 {
		t.Fatalf("%d codes left without a factor", n)
	}
	e.sessions.mu.Lock()
	e.sessions.authAt = time.Time{} // signed in just now again
	e.sessions.mu.Unlock()
	// Someone else's factor id is not found.
	if status, _, _ := e.do("POST", "/account/second-factor/remove", &q, url.Values{"id": {id[1]}}); status != http.StatusNotFound {
		t.Fatalf("remove someone else's: %d", status)
	}

	// A referent (required by default) cannot remove their last factor.
	e.member(p, s, true)
	secrets := testMFASecrets(t)
	f, err := secrets.NewTOTPFactor(p.ID, "Tel", secret, 0, time.Now())
	e.must(err)
	e.must(e.st.CreateSecondFactor(ctx, &f))
	if status, _, body := e.do("POST", "/account/second-factor/remove", &p, url.Values{"id": {f.ID}}); status != http.StatusConflict || !strings.Contains(body, "une autre application") {
		t.Fatalf("remove the last required factor: %d\n%s", status, body)
	}
	// Where the structure turns it off, a person without a factor is not
	// offered one.
	off := store.MFAOff
	_, err = e.st.UpdateStructure(ctx, s.ID, func(x *store.Structure) error { x.MFAPolicy = off; return nil })
	e.must(err)
	if _, _, body := e.do("GET", "/", &q, nil); strings.Contains(body, "/account/second-factor") {
		t.Fatal("second factor offered where the policy is off")
	}
	if status, _, _ := e.do("GET", "/account/second-factor", &q, nil); status != http.StatusForbidden {
		t.Fatalf("enrolment where the policy is off: %d", status)
	}
}

// TestAdminResetSecondFactor: a referent resets a member's second factor:
// factors and codes go, their sessions end, they are told by email, and
// the audit says who did it.
func TestAdminResetSecondFactor(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	s := e.structure("le-beta")
	ref := e.person("ref", store.StateActive, false)
	e.member(ref, s, true)
	p := e.person("jean.dupont", store.StateActive, false)
	e.member(p, s, false)
	secrets := testMFASecrets(t)
	f, err := secrets.NewTOTPFactor(p.ID, "Tel", "JBSWY3DPEHPK3PXP", 0, time.Now())
	e.must(err)
	e.must(e.st.CreateSecondFactor(ctx, &f))
	_, hashes := mfa.NewRecoveryCodes()
	e.must(e.st.SetRecoveryCodes(ctx, p.ID, hashes, time.Now()))

	base := "/admin/structures/le-beta/people/" + p.ID
	_, _, page := e.do("GET", base, &ref, nil)
	if !strings.Contains(page, `action="`+base+`/mfa-reset"`) {
		t.Fatalf("no reset button:\n%s", page)
	}
	status, loc, _ := e.do("POST", base+"/mfa-reset", &ref, url.Values{})
	if status != http.StatusSeeOther || !strings.Contains(loc, "done=mfa-reset") {
		t.Fatalf("reset: %d %q", status, loc)
	}
	if fs, _ := e.st.ListSecondFactors(ctx, p.ID); len(fs) != 0 {
		t.Fatalf("factors left: %v", fs)
	}
	if n, _ := e.st.CountRecoveryCodes(ctx, p.ID); n != 0 {
		t.Fatalf("codes left: %d", n)
	}
	for _, kind := range []string{"mail.mfa-reset", "oidc.end-sessions"} {
		if js, _ := e.st.ListJobs(ctx, store.JobFilter{Kind: kind}); len(js) != 1 {
			t.Errorf("%d %s jobs, want 1", len(js), kind)
		}
	}
	entries, err := e.st.ListAudit(ctx, store.AuditFilter{Action: "person.mfa.reset"})
	e.must(err)
	if len(entries) != 1 || !strings.Contains(entries[0].Actor, ref.ID) && !strings.Contains(entries[0].Actor, "ref") {
		t.Fatalf("audit: %+v", entries)
	}
	// A referent may not set the structure's policy.
	if status, _, _ := e.do("POST", "/admin/structures/le-beta", &ref, url.Values{"name": {"Le Bêta"}, "contact": {""}, "mfa_policy": {"off"}}); status != http.StatusForbidden {
		t.Fatalf("referent sets the policy: %d", status)
	}
}
