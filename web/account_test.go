package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/web"
)

func TestActivationFlow(t *testing.T) { onBackends(t, testActivationFlow) }

func testActivationFlow(t *testing.T, backend string) {
	e := newEnvOn(t, backend)
	p := e.person("alice.martin", "Alice.Martin@example.org", store.StateInvited)
	secret := e.issue(p, store.PurposeActivate)
	link := "/activate/" + secret

	// The link opens the page: who they are, what they get, the rules, the form.
	r := e.get(link)
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, `<html lang="fr">`, "Activer votre compte", "Alice Martin", "alice.martin",
		"Alice.Martin@example.org", "Le Bêta", "Nextcloud du Bêta", "Site du Bêta", "rôle : editor",
		"Au moins 10 caractères", `autocomplete="new-password"`, `name="username" value="alice.martin" autocomplete="username"`,
		`<label for="password">`, `<label for="confirm">`, `aria-describedby="password-rules"`)

	// Two different passwords: the form again, with the error tied to the field.
	r = e.post(link, url.Values{"password": {goodPassword}, "confirm": {goodPassword + "x"}})
	mustStatus(t, r, http.StatusUnprocessableEntity)
	mustContain(t, r, "ne sont pas identiques", `aria-describedby="confirm-error"`, `id="confirm-error"`)
	// A weak or personal password: the policy's plain sentence.
	r = e.post(link, pw("alicemartin2026"))
	mustStatus(t, r, http.StatusUnprocessableEntity)
	mustContain(t, r, `id="password-error"`, `aria-invalid="true"`)
	r = e.post(link, pw("short"))
	mustContain(t, r, "trop court")
	if got := e.getPerson(p.ID); got.State != store.StateInvited || got.PasswordHash != "" {
		t.Fatalf("a refused password changed the person: %+v", got)
	}

	// A good password activates.
	r = e.post(link, pw(goodPassword))
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, "Votre compte est activé", `href="https://cloud.lebeta.example"`, `href="https://www.lebeta.example"`)
	got := e.getPerson(p.ID)
	if got.State != store.StateActive || !got.PasswordChangedAt.Equal(e.clock.Now()) {
		t.Fatalf("person after activation: %+v", got)
	}
	if ok, err := e.hasher.Verify(context.Background(), got.PasswordHash, goodPassword); err != nil || !ok {
		t.Fatalf("stored hash does not verify the password: %v %v", ok, err)
	}
	if n := e.countJobs(jobs.KindLDAPPerson, p.ID); n != 1 {
		t.Errorf("%d ldap.person jobs, want 1", n)
	}
	if n := e.countJobs(jobs.KindMailPasswordChanged, p.ID); n != 1 {
		t.Errorf("%d mail.password-changed jobs, want 1", n)
	}
	ldap, _ := e.st.ListJobs(context.Background(), store.JobFilter{Kind: jobs.KindLDAPPerson})
	if len(ldap) != 1 || ldap[0].DedupeKey != jobs.DedupeLDAPPerson(p.ID) || strings.Contains(string(ldap[0].Payload), goodPassword) {
		t.Errorf("ldap job: %+v", ldap)
	}
	audit, _ := e.st.ListAudit(context.Background(), store.AuditFilter{Target: "person:" + p.ID, Action: "person.activate"})
	if len(audit) != 1 {
		t.Errorf("audit entries: %+v", audit)
	}
	if ended := e.sessions.list(); !slices.Equal(ended, []string{p.ID}) {
		t.Errorf("sessions ended for %v, want [%s]", ended, p.ID)
	}

	// The same link a second time: the friendly page, with a next step.
	r = e.get(link)
	mustStatus(t, r, http.StatusGone)
	// An activated account goes on to its services (the portal lists them).
	mustContain(t, r, "Ce lien ne fonctionne plus", "déjà été utilisé", `action="/resend"`, `href="/forgot"`, `href="/">Voir mes services`)
	r = e.post(link, pw(goodPassword+" encore"))
	mustStatus(t, r, http.StatusGone)
	if again := e.getPerson(p.ID); again.PasswordHash != got.PasswordHash {
		t.Fatal("a used link changed the password")
	}
}

func TestUnknownAndMalformedLinks(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/activate/nope", "/reset/nope", "/activate/" + strings.Repeat("a", 500)} {
		r := e.get(path)
		mustStatus(t, r, http.StatusNotFound)
		mustContain(t, r, "Ce lien n&#39;est pas valide", `action="/resend"`)
		r = e.post(path, pw(goodPassword))
		mustStatus(t, r, http.StatusNotFound)
	}
	// A broken form body is a clear 400, not a crash.
	p := e.person("bob.durand", "bob@example.org", store.StateInvited)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/activate/"+e.issue(p, store.PurposeActivate), strings.NewReader("%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	mustStatus(t, e.do(req), http.StatusBadRequest)
	// A disabled person's link does not work.
	ctx := context.Background()
	secret := e.issue(p, store.PurposeActivate)
	if _, err := e.st.UpdatePerson(ctx, p.ID, func(p *store.Person) error { p.State = store.StateDisabled; return nil }); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, e.get("/activate/"+secret), http.StatusNotFound)
	mustStatus(t, e.post("/activate/"+secret, pw(goodPassword)), http.StatusNotFound)
	if got := e.getPerson(p.ID); got.State != store.StateDisabled || got.PasswordHash != "" {
		t.Fatalf("disabled person changed: %+v", got)
	}
}

func TestExpiredLinkThenNewLink(t *testing.T) { onBackends(t, testExpiredLinkThenNewLink) }

func testExpiredLinkThenNewLink(t *testing.T, backend string) {
	e := newEnvOn(t, backend)
	p := e.person("chloe.petit", "chloe@example.org", store.StateInvited)
	old := e.issue(p, store.PurposeActivate)
	e.clock.Advance(8 * 24 * time.Hour)

	r := e.get("/activate/" + old)
	mustStatus(t, r, http.StatusGone)
	mustContain(t, r, "Ce lien a expiré", "nous vous enverrons un nouveau lien", `action="/resend"`)
	mustStatus(t, e.post("/activate/"+old, pw(goodPassword)), http.StatusGone)

	r = e.post("/resend", url.Values{"identifier": {"Chloe@Example.org"}})
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, "Vérifiez votre messagerie")
	mails := e.linkJobs(p.ID, store.PurposeActivate)
	if len(mails) != 2 || mails[1].StructureID != e.structure.ID {
		t.Fatalf("activation mails after the request: %+v", mails)
	}
	fresh := e.tokens.Secret(mails[1].Nonce)
	if fresh == old {
		t.Fatal("the new link is the old one")
	}
	mustStatus(t, e.get("/activate/"+fresh), http.StatusOK)
	// The old one is dead, even before its expiry would matter.
	if r := e.get("/activate/" + old); r.status == http.StatusOK {
		t.Fatal("the old link still opens the form")
	}
	mustStatus(t, e.post("/activate/"+fresh, pw(goodPassword)), http.StatusOK)
	if got := e.getPerson(p.ID); got.State != store.StateActive {
		t.Fatalf("not active: %+v", got)
	}
}

func TestForgotPasswordSameAnswer(t *testing.T) {
	e := newEnv(t, func(a *web.Account) {
		a.KeyLimit = web.NewRateLimiter(1000, time.Millisecond, nil)
		a.IPLimit = web.NewRateLimiter(1000, time.Millisecond, nil)
		a.LinkRequestTime = 150 * time.Millisecond
	})
	known := e.person("denis.roux", "denis@example.org", store.StateActive)
	invited := e.person("emma.blanc", "emma@example.org", store.StateInvited)
	disabled := e.person("fanny.noir", "fanny@example.org", store.StateDisabled)

	answer := func(id string) (response, time.Duration) {
		start := time.Now()
		r := e.post("/forgot", url.Values{"identifier": {id}})
		return r, time.Since(start)
	}
	ref, _ := answer("nobody@example.org")
	mustStatus(t, ref, http.StatusOK)
	mustContain(t, ref, "Si un compte correspond")
	for _, id := range []string{"denis@example.org", "DENIS@example.org ", "denis.roux", "emma@example.org",
		"fanny@example.org", "nobody.else", "x@y"} {
		r, _ := answer(id)
		if r.status != ref.status || r.body != ref.body {
			t.Errorf("answer for %q differs from the unknown address's:\n%s", id, r.body)
		}
		for _, h := range []string{"Content-Type", "Content-Length", "Set-Cookie", "Cache-Control"} {
			if r.header.Get(h) != ref.header.Get(h) {
				t.Errorf("header %s for %q: %q vs %q", h, id, r.header.Get(h), ref.header.Get(h))
			}
		}
	}
	if n := len(e.linkJobs(known.ID, store.PurposeReset)); n != 3 {
		t.Errorf("%d reset mails for the active person, want 3", n)
	}
	if n := len(e.linkJobs(invited.ID, store.PurposeActivate)); n != 1 {
		t.Errorf("%d activation mails for the invited person, want 1", n)
	}
	if n := len(e.linkJobs(disabled.ID, store.PurposeReset)) + len(e.linkJobs(disabled.ID, store.PurposeActivate)); n != 0 {
		t.Errorf("%d mails for the disabled person, want 0", n)
	}

	// Same response time: the median of several tries, loose bound.
	const tries = 9
	var knownT, unknownT []time.Duration
	for i := range tries {
		_, d := answer("denis@example.org")
		knownT = append(knownT, d)
		_, d = answer(fmt.Sprintf("nobody%d@example.org", i))
		unknownT = append(unknownT, d)
	}
	median := func(ds []time.Duration) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	mk, mu := median(knownT), median(unknownT)
	diff := mk - mu
	if diff < 0 {
		diff = -diff
	}
	t.Logf("median response time: known %v, unknown %v", mk, mu)
	if diff > 40*time.Millisecond {
		t.Errorf("median times differ by %v (known %v, unknown %v)", diff, mk, mu)
	}
	if mk < 150*time.Millisecond || mu < 150*time.Millisecond {
		t.Errorf("answers faster than the floor: %v %v", mk, mu)
	}
}

func TestParallelActivationOneWins(t *testing.T) { onBackends(t, testParallelActivationOneWins) }

func testParallelActivationOneWins(t *testing.T, backend string) {
	e := newEnvOn(t, backend, func(a *web.Account) {
		a.IPLimit = web.NewRateLimiter(1000, time.Millisecond, nil)
		// Every submission queues for a hashing slot rather than being
		// refused with 503 by the bounded queue (a loaded CI machine
		// otherwise fills it): this test is about the link, not overload.
		a.Hasher.MaxQueue = 2 * 20
		a.Hasher.MaxWait = time.Minute
	})
	p := e.person("gaston.lagaffe", "gaston@example.org", store.StateInvited)
	link := "/activate/" + e.issue(p, store.PurposeActivate)
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = e.post(link, pw(fmt.Sprintf("%s numéro %d", goodPassword, i))).status
		}()
	}
	close(start)
	wg.Wait()
	ok, gone := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusGone:
			gone++
		}
	}
	if ok != 1 || gone != n-1 {
		t.Fatalf("statuses %v: %d successes, %d refusals; want exactly one success", statuses, ok, gone)
	}
	if c := e.countJobs(jobs.KindMailPasswordChanged, p.ID); c != 1 {
		t.Errorf("%d password-changed mails, want 1", c)
	}
	// The stored hash is the winner's password.
	got := e.getPerson(p.ID)
	matches := 0
	for i := range n {
		if ok, _ := e.hasher.Verify(context.Background(), got.PasswordHash, fmt.Sprintf("%s numéro %d", goodPassword, i)); ok {
			matches++
		}
	}
	if matches != 1 {
		t.Fatalf("stored hash matches %d of the submitted passwords", matches)
	}
}

func TestResetOnlyChangesTheTokensPerson(t *testing.T) {
	onBackends(t, testResetOnlyChangesTheTokensPerson)
}

func testResetOnlyChangesTheTokensPerson(t *testing.T, backend string) {
	e := newEnvOn(t, backend)
	a := e.person("anne.leroy", "anne@example.org", store.StateActive)
	b := e.person("bruno.leroy", "bruno@example.org", store.StateActive)
	bBefore := e.getPerson(b.ID)
	secretA := e.issue(a, store.PurposeReset)
	secretB := e.issue(b, store.PurposeReset)

	// A reset link is not an activation link.
	mustStatus(t, e.get("/activate/"+secretA), http.StatusNotFound)
	mustStatus(t, e.post("/activate/"+secretA, pw(goodPassword)), http.StatusNotFound)

	r := e.get("/reset/" + secretA)
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, "Choisir un nouveau mot de passe", "anne.leroy")

	// Whatever else the request carries, only A's password changes.
	form := pw(goodPassword)
	for k, v := range map[string]string{"username": "bruno.leroy", "person_id": b.ID, "person": b.ID, "id": b.ID,
		"email": "bruno@example.org", "secret": secretB, "token": secretB} {
		form.Set(k, v)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/reset/"+secretA+"?person_id="+b.ID+"&username=bruno.leroy",
		strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "person_id", Value: b.ID})
	r = e.do(req)
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, "Votre mot de passe a été changé", "anne.leroy")
	mustContain(t, r, "autres sessions ont été fermées")
	if strings.Contains(r.body, "bruno") {
		t.Error("the success page mentions B")
	}
	aAfter, bAfter := e.getPerson(a.ID), e.getPerson(b.ID)
	if ok, _ := e.hasher.Verify(context.Background(), aAfter.PasswordHash, goodPassword); !ok {
		t.Error("A's password was not changed")
	}
	if bAfter.PasswordHash != bBefore.PasswordHash || !bAfter.PasswordChangedAt.Equal(bBefore.PasswordChangedAt) {
		t.Error("B's password changed through A's link")
	}
	if ended := e.sessions.list(); !slices.Equal(ended, []string{a.ID}) {
		t.Errorf("sessions ended for %v, want only A", ended)
	}
	if e.countJobs(jobs.KindMailPasswordChanged, a.ID) != 1 || e.countJobs(jobs.KindMailPasswordChanged, b.ID) != 0 {
		t.Error("password-changed mail not sent to exactly A")
	}
	audit, _ := e.st.ListAudit(context.Background(), store.AuditFilter{Target: "person:" + a.ID, Action: "person.password.reset"})
	if len(audit) != 1 {
		t.Errorf("audit: %+v", audit)
	}
	// B's own link still works for B (A's use did not consume it).
	mustStatus(t, e.get("/reset/"+secretB), http.StatusOK)

	// An expired reset link (one hour) is refused.
	secretA2 := e.issue(a, store.PurposeReset)
	e.clock.Advance(61 * time.Minute)
	mustStatus(t, e.post("/reset/"+secretA2, pw(goodPassword+" bis")), http.StatusGone)
}

func TestCSRFRefusesCrossOriginPosts(t *testing.T) {
	e := newEnv(t)
	p := e.person("hugo.faure", "hugo@example.org", store.StateInvited)
	link := "/activate/" + e.issue(p, store.PurposeActivate)
	for _, h := range [][]string{
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "cross-site", "Origin", e.srv.URL},
	} {
		r := e.post(link, pw(goodPassword), h...)
		mustStatus(t, r, http.StatusForbidden)
		mustContain(t, r, "Cette demande a été refusée")
		r = e.post("/forgot", url.Values{"identifier": {"hugo@example.org"}}, h...)
		mustStatus(t, r, http.StatusForbidden)
	}
	if got := e.getPerson(p.ID); got.State != store.StateInvited {
		t.Fatal("a cross-origin post activated the account")
	}
	if n := len(e.linkJobs(p.ID, store.PurposeActivate)); n != 1 {
		t.Fatalf("a cross-origin post sent a link (%d mails)", n)
	}
	// The same post from our own page goes through.
	r := e.post(link, pw(goodPassword), "Sec-Fetch-Site", "same-origin", "Origin", e.srv.URL)
	mustStatus(t, r, http.StatusOK)
	// The public URL's origin is trusted too (a proxy rewriting Host).
	r = e.post("/forgot", url.Values{"identifier": {"x@example.org"}}, "Origin", "https://sesame.example")
	mustStatus(t, r, http.StatusOK)
}

func TestSecurityHeadersAndNoInlineCode(t *testing.T) {
	e := newEnv(t)
	p := e.person("iris.morel", "iris@example.org", store.StateInvited)
	for _, r := range []response{
		e.get("/forgot"), e.get("/resend"), e.get("/activate/" + e.issue(p, store.PurposeActivate)),
		e.get("/activate/unknown"), e.post("/forgot", url.Values{"identifier": {"a@b.c"}}),
	} {
		h := r.header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP allows inline code: %q", csp)
		}
		for k, v := range map[string]string{"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
			"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Strict-Transport-Security": "max-age=31536000"} {
			if h.Get(k) != v {
				t.Errorf("%s = %q, want %q", k, h.Get(k), v)
			}
		}
		for _, bad := range []string{"<script", "style=", " onclick=", "onsubmit=", "<style"} {
			if strings.Contains(r.body, bad) {
				t.Errorf("page contains inline code %q", bad)
			}
		}
		mustContain(t, r, `<meta name="viewport" content="width=device-width, initial-scale=1">`,
			`<link rel="stylesheet" href="/static/style.css">`)
	}
	css := e.get("/static/style.css")
	mustStatus(t, css, http.StatusOK)
	if !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet type %q", css.header.Get("Content-Type"))
	}
	mustContain(t, css, ":focus-visible", "min-height: 48px")
}

func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	r := e.get("/forgot")
	mustContain(t, r, `<html lang="fr">`, "Mot de passe oublié", `href="/forgot?lang=en"`, "English")
	r = e.get("/forgot", "Accept-Language", "en-GB,en;q=0.9")
	mustContain(t, r, `<html lang="en">`, "Forgotten password", `href="/forgot?lang=fr"`)
	r = e.get("/forgot", "Accept-Language", "de-DE,de;q=0.9")
	mustContain(t, r, `<html lang="fr">`)

	r = e.get("/forgot?lang=en")
	mustContain(t, r, `<html lang="en">`)
	var c *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == web.LangCookie {
			c = ck
		}
	}
	if c == nil || c.Value != "en" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Fatalf("language cookie %+v", c)
	}
	// The cookie keeps the choice, above Accept-Language.
	r = e.get("/forgot", "Cookie", web.LangCookie+"=en", "Accept-Language", "fr")
	mustContain(t, r, `<html lang="en">`)
	// A bogus choice is ignored.
	r = e.get("/forgot?lang=xx", "Cookie", web.LangCookie+"=zz")
	mustContain(t, r, `<html lang="fr">`)
	if len(r.header.Values("Set-Cookie")) != 0 {
		t.Error("a bogus language set a cookie")
	}
	// The activation page in English, through the switch link.
	p := e.person("jules.vidal", "jules@example.org", store.StateInvited)
	r = e.get("/activate/" + e.issue(p, store.PurposeActivate) + "?lang=en")
	mustContain(t, r, "Activate your account", "At least 10 characters")
}

func TestLanguageCookieNotSecureOverHTTP(t *testing.T) {
	e := newEnv(t, func(a *web.Account) { a.PublicURL = "http://localhost:8080" })
	r := e.get("/forgot?lang=en")
	cs := (&http.Response{Header: r.header}).Cookies()
	if len(cs) != 1 || cs[0].Secure || !cs[0].HttpOnly {
		t.Fatalf("cookies %+v", cs)
	}
	if r.header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over http")
	}
}

func TestRateLimits(t *testing.T) {
	e := newEnv(t, func(a *web.Account) {
		a.IPLimit = web.NewRateLimiter(3, time.Minute, nil)
	})
	for range 3 {
		mustStatus(t, e.post("/activate/x", pw(goodPassword)), http.StatusNotFound)
	}
	r := e.post("/forgot", url.Values{"identifier": {"k@example.org"}})
	mustStatus(t, r, http.StatusTooManyRequests)
	mustContain(t, r, "Trop de tentatives. Réessayez dans une minute.", `href="/forgot"`)
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// GETs are not limited.
	mustStatus(t, e.get("/forgot"), http.StatusOK)
	// JSON by Accept.
	r = e.post("/forgot", url.Values{"identifier": {"k@example.org"}}, "Accept", "application/json")
	mustStatus(t, r, http.StatusTooManyRequests)
	mustContain(t, r, `"code":"too_many"`)

	// Per account: the same address is limited whatever the IP.
	c := &clock{t: time.Now()}
	e2 := newEnv(t, func(a *web.Account) {
		a.IPLimit = web.NewRateLimiter(1000, time.Millisecond, nil)
		a.KeyLimit = web.NewRateLimiter(2, 10*time.Minute, c.Now)
		a.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-IP") }
	})
	known := e2.person("karim.said", "karim@example.org", store.StateActive)
	for i := range 2 {
		mustStatus(t, e2.post("/forgot", url.Values{"identifier": {"karim@example.org"}}, "X-Test-IP", fmt.Sprint(i)), http.StatusOK)
	}
	r = e2.post("/resend", url.Values{"identifier": {"KARIM@example.org"}}, "X-Test-IP", "9")
	mustStatus(t, r, http.StatusTooManyRequests)
	mustContain(t, r, "Réessayez dans 10 minutes")
	mustStatus(t, e2.post("/forgot", url.Values{"identifier": {"other@example.org"}}), http.StatusOK)
	// An unknown address is limited the same way (no enumeration through 429s).
	for range 2 {
		mustStatus(t, e2.post("/forgot", url.Values{"identifier": {"ghost@example.org"}}), http.StatusOK)
	}
	mustStatus(t, e2.post("/forgot", url.Values{"identifier": {"ghost@example.org"}}), http.StatusTooManyRequests)
	if n := len(e2.linkJobs(known.ID, store.PurposeReset)); n != 2 {
		t.Errorf("%d reset mails, want 2", n)
	}
	c.Advance(10 * time.Minute)
	mustStatus(t, e2.post("/forgot", url.Values{"identifier": {"karim@example.org"}}), http.StatusOK)
}

func TestRequestLinkValidation(t *testing.T) {
	e := newEnv(t)
	r := e.post("/forgot", url.Values{"identifier": {"  "}})
	mustStatus(t, r, http.StatusUnprocessableEntity)
	mustContain(t, r, "Ce champ est obligatoire", `aria-describedby="identifier-error"`)
	r = e.post("/forgot", url.Values{"identifier": {strings.Repeat("a", 400)}})
	mustStatus(t, r, http.StatusUnprocessableEntity)
}

// With the store down, a link page is a clean 500 that shows no detail, and
// "forgot password" still gives its one answer (the failure is logged).
func TestStoreDown(t *testing.T) {
	e := newEnv(t)
	p := e.person("marc.henry", "marc@example.org", store.StateInvited)
	secret := e.issue(p, store.PurposeActivate)
	ref := e.post("/forgot", url.Values{"identifier": {"nobody@example.org"}})
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.get("/activate/" + secret)
	mustStatus(t, r, http.StatusInternalServerError)
	mustContain(t, r, "Un problème est survenu de notre côté", `href="/forgot"`)
	if strings.Contains(strings.ToLower(r.body), "sql") || strings.Contains(r.body, "closed") {
		t.Errorf("the error page shows internals:\n%s", r.body)
	}
	mustStatus(t, e.post("/activate/"+secret, pw(goodPassword)), http.StatusInternalServerError)
	r = e.post("/forgot", url.Values{"identifier": {"marc@example.org"}}, "Accept", "application/json")
	if r.status != ref.status || r.body != ref.body {
		t.Errorf("forgot with the store down: %d\n%s", r.status, r.body)
	}
}
