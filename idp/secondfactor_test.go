package idp

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"sesame/internal/jobs"
	"sesame/internal/mfa"
	"sesame/internal/store"

	"github.com/coreos/go-oidc/v3/oidc"
)

// totpSecret is the secret of the factors the tests enrol directly.
const totpSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// recoveryCodes gives person ten recovery codes, and returns them.
func (f *fixture) recoveryCodes(person store.Person) []string {
	f.t.Helper()
	codes, hashes := mfa.NewRecoveryCodes()
	if err := f.st.SetRecoveryCodes(context.Background(), person.ID, hashes, f.clock.Now()); err != nil {
		f.t.Fatal(err)
	}
	return codes
}

// enrolTOTP gives person a TOTP factor of totpSecret, as the portal would.
func (f *fixture) enrolTOTP(person store.Person) {
	f.t.Helper()
	factor, err := f.p.secrets.NewTOTPFactor(person.ID, "Téléphone", totpSecret, 0, f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.CreateSecondFactor(context.Background(), &factor); err != nil {
		f.t.Fatal(err)
	}
}

// codeAt is the TOTP code of totpSecret steps away from the clock's step.
func (f *fixture) codeAt(secret string, steps int64) string {
	f.t.Helper()
	c, err := mfa.CodeAt(secret, mfa.Step(f.clock.Now())+steps)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (r result) isSecondStep() bool {
	return r.status == http.StatusOK && strings.Contains(r.body, `name="action" value="verify"`)
}

func (r result) isEnrolment() bool {
	return r.status == http.StatusOK && strings.Contains(r.body, `name="action" value="enrol"`)
}

// startLogin starts a code flow of c in b and gives the password: the
// second step is what it returns.
func (c *rp) startLogin(b *browser, username string, opts ...oauth2.AuthCodeOption) (res result, state, verifier string) {
	c.f.t.Helper()
	state, verifier = "state-"+randomID(8), oauth2.GenerateVerifier()
	opts = append(opts, oauth2.S256ChallengeOption(verifier))
	res = b.get(c.conf.AuthCodeURL(state, opts...))
	if !res.isLoginForm() {
		c.f.t.Fatalf("want the login form, got %d %.300s", res.status, res.body)
	}
	return b.login(res, username, testPassword), state, verifier
}

// finishFlow exchanges the code res carries and returns the ID token's
// claims.
func (c *rp) finishFlow(res result, state, verifier string) map[string]any {
	c.f.t.Helper()
	_, idt := c.exchange(c.f.codeFrom(res, c.conf.RedirectURL, state), verifier)
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		c.f.t.Fatal(err)
	}
	return m
}

func amrOfClaims(t *testing.T, claims map[string]any) []string {
	t.Helper()
	raw, _ := claims["amr"].([]any)
	var out []string
	for _, v := range raw {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

func (b *browser) second(code string) result {
	b.f.t.Helper()
	return b.post(b.f.issuer+"/second-factor", url.Values{"action": {"verify"}, "code": {code}})
}

func TestSecondFactorTOTPLogin(t *testing.T) {
	f := newFixture(t)
	f.enrolTOTP(f.alice)
	c := f.rp(f.gen, secretGen, genRedirect)

	b := f.browser()
	res, state, verifier := c.startLogin(b, "alice.martin")
	if !res.isSecondStep() {
		t.Fatalf("after the password: %d %.400s", res.status, res.body)
	}
	// A wrong code, and a code two steps away, are refused; the page asks
	// again.
	for _, code := range []string{"000000", f.codeAt(totpSecret, 2), f.codeAt(totpSecret, -2), "12345", "abcdef"} {
		if res := b.second(code); res.status != http.StatusUnauthorized || !strings.Contains(res.body, `name="action" value="verify"`) {
			t.Fatalf("code %q: %d %.300s", code, res.status, res.body)
		}
	}
	// One step behind (a phone's clock a little late) is accepted.
	claims := c.finishFlow(b.second(f.codeAt(totpSecret, -1)), state, verifier)
	if got := amrOfClaims(t, claims); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("amr %v", got)
	}
	if claims["acr"] != ACRTwoFactor {
		t.Fatalf("acr %v", claims["acr"])
	}

	// The same code (or the one before it) cannot serve again, even in
	// another browser within its window.
	b2 := f.browser()
	res, _, _ = c.startLogin(b2, "alice.martin")
	for _, code := range []string{f.codeAt(totpSecret, -1), f.codeAt(totpSecret, -1)} {
		if res := b2.second(code); res.status != http.StatusUnauthorized || !strings.Contains(res.body, "déjà servi") {
			t.Fatalf("replayed code: %d %.300s", res.status, res.body)
		}
	}
	// One step ahead (a phone a little early) is accepted.
	_ = res
	f.clock.Advance(time.Second)
	res2 := b2.second(f.codeAt(totpSecret, 1))
	if res2.location == nil {
		t.Fatalf("code of the next step: %d %.300s", res2.status, res2.body)
	}

	// The session of a two-factor login answers the next request at once,
	// with the same amr.
	_, idt := c.flow(b, "alice.martin")
	if got := amrOfClaims(t, mustClaims(t, idt)); !slices.Contains(got, "mfa") {
		t.Fatalf("amr of the session's next login: %v", got)
	}
}

func TestSecondFactorRecoveryCode(t *testing.T) {
	f := newFixture(t)
	f.enrolTOTP(f.alice)
	codes := f.recoveryCodes(f.alice)
	c := f.rp(f.gen, secretGen, genRedirect)
	b := f.browser()
	res, state, verifier := c.startLogin(b, "alice.martin")
	if !res.isSecondStep() {
		t.Fatalf("second step: %d", res.status)
	}
	// Typed in capitals with spaces: the same code.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	claims := c.finishFlow(b.second(typed), state, verifier)
	if claims["acr"] != ACRTwoFactor {
		t.Fatalf("acr %v", claims["acr"])
	}
	b2 := f.browser()
	c.startLogin(b2, "alice.martin")
	if res := b2.second(codes[3]); res.status != http.StatusUnauthorized || !strings.Contains(res.body, "déjà servi") {
		t.Fatalf("recovery code used twice: %d %.300s", res.status, res.body)
	}
	if n, err := f.st.CountRecoveryCodes(context.Background(), f.alice.ID); err != nil || n != 9 {
		t.Fatalf("codes left: %d %v", n, err)
	}
	// Alice is told by email (once: the refused second use tells nobody).
	if js, _ := f.st.ListJobs(context.Background(), store.JobFilter{Kind: jobs.KindMailRecoveryUsed}); len(js) != 1 {
		t.Fatalf("%d recovery notices queued, want 1", len(js))
	}
}

func TestSecondFactorRateLimited(t *testing.T) {
	lim := &countingLimiter{burst: 3}
	f := newFixture(t, func(c *Config) { c.LoginLimiter = lim })
	f.enrolTOTP(f.alice)
	c := f.rp(f.gen, secretGen, genRedirect)
	b := f.browser()
	c.startLogin(b, "alice.martin")
	var last result
	for range 5 {
		last = b.second("000000")
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("after 5 wrong codes: %d", last.status)
	}
	// The right code waits too: the buckets are the login's.
	if res := b.second(f.codeAt(totpSecret, 0)); res.status != http.StatusTooManyRequests {
		t.Fatalf("right code while limited: %d", res.status)
	}
}

// countingLimiter refuses once burst tokens of a key are spent.
type countingLimiter struct {
	burst int
	spent map[string]int
}

func (l *countingLimiter) Check(key string) (bool, time.Duration) {
	return l.spent[key] < l.burst, time.Minute
}

func (l *countingLimiter) Allow(key string) (bool, time.Duration) {
	if l.spent == nil {
		l.spent = map[string]int{}
	}
	ok, wait := l.Check(key)
	if ok {
		l.spent[key]++
	}
	return ok, wait
}

var secretField = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)
var enrolmentField = regexp.MustCompile(`name="enrolment" value="([^"]+)"`)

// enrol scans the enrolment page res shows and confirms it with the app's
// code; it returns the page after and the secret.
func (b *browser) enrol(res result) (result, string) {
	b.f.t.Helper()
	m, e := secretField.FindStringSubmatch(res.body), enrolmentField.FindStringSubmatch(res.body)
	if m == nil || e == nil || !strings.Contains(res.body, "<svg") {
		b.f.t.Fatalf("not an enrolment page: %d %.500s", res.status, res.body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	return b.post(b.f.issuer+"/second-factor", url.Values{"action": {"enrol"}, "enrolment": {html.UnescapeString(e[1])},
		"code": {b.f.codeAt(secret, 0)}, "name": {"Mon téléphone"}}), secret
}

func TestSecondFactorRequiredByClient(t *testing.T) {
	f := newFixture(t)
	c := f.rp(f.gen, secretGen, genRedirect)
	b := f.browser()
	// A password-only session first.
	if _, idt := c.flow(b, "alice.martin"); mustClaims(t, idt)["acr"] != ACRPassword {
		t.Fatalf("password login: acr %v", mustClaims(t, idt)["acr"])
	}
	// The client then asks for two factors: the session does not answer,
	// both are asked, and Alice (no factor yet) is walked through
	// enrolment, with no "later".
	res, state, verifier := c.startLogin(b, "alice.martin", oauth2.SetAuthURLParam("acr_values", ACRTwoFactor))
	if !res.isEnrolment() || strings.Contains(res.body, `value="later"`) {
		t.Fatalf("want the enrolment without later: %d %.400s", res.status, res.body)
	}
	// A wrong code keeps the same QR code.
	m := enrolmentField.FindStringSubmatch(res.body)
	wrong := b.post(f.issuer+"/second-factor", url.Values{"action": {"enrol"}, "enrolment": {html.UnescapeString(m[1])}, "code": {"000000"}})
	if wrong.status != http.StatusUnauthorized || secretField.FindString(wrong.body) != secretField.FindString(res.body) {
		t.Fatalf("wrong enrolment code: %d", wrong.status)
	}
	done, _ := b.enrol(wrong)
	if done.status != http.StatusOK || strings.Count(done.body, "<li><code>") != mfa.RecoveryCodes {
		t.Fatalf("recovery codes page: %d %.400s", done.status, done.body)
	}
	res = b.post(f.issuer+"/second-factor", url.Values{"action": {"continue"}})
	claims := c.finishFlow(res, state, verifier)
	if claims["acr"] != ACRTwoFactor || !slices.Contains(amrOfClaims(t, claims), "mfa") {
		t.Fatalf("claims %v", claims)
	}
	factors, err := f.st.ListSecondFactors(context.Background(), f.alice.ID)
	if err != nil || len(factors) != 1 || factors[0].Name != "Mon téléphone" {
		t.Fatalf("factors %+v %v", factors, err)
	}
	// The step is over: continuing again is refused.
	if res := b.post(f.issuer+"/second-factor", url.Values{"action": {"continue"}}); res.status != http.StatusBadRequest {
		t.Fatalf("continue twice: %d", res.status)
	}
}

func TestSecondFactorRequiredByService(t *testing.T) {
	f := newFixture(t)
	if _, err := f.st.UpdateService(context.Background(), f.gen.ID, func(s *store.Service) error { s.RequireMFA = true; return nil }); err != nil {
		t.Fatal(err)
	}
	c := f.rp(f.gen, secretGen, genRedirect)
	// A password-only session, opened at the Paheko client, does not give
	// the generic client a code.
	b := f.browser()
	f.rp(f.wp, secretWP, wpRedirect).flow(b, "alice.martin")
	res, _, _ := c.startLogin(b, "alice.martin")
	if !res.isEnrolment() {
		t.Fatalf("want the enrolment: %d %.300s", res.status, res.body)
	}
	// prompt=none with that session is answered login_required.
	v := authParams(f.gen.ClientID, genRedirect, "prompt", "none")
	if r := b.get(f.authURL(v)); r.location == nil || r.location.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none: %v", r.location)
	}
}

// TestSecondFactorCodeGuard: a code of a request that required two
// factors, finished with one (as a bug could), is refused at the token
// endpoint.
func TestSecondFactorCodeGuard(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ar := store.AuthRequest{ID: randomID(32), ClientID: f.gen.ClientID, RedirectURI: genRedirect, Scopes: []string{"openid"},
		ResponseType: "code", MaxAge: -1, PersonID: f.alice.ID, AuthTime: f.clock.Now(), AMR: []string{"pwd"}, RequireMFA: true,
		Done: true, ExpiresAt: f.clock.Now().Add(time.Hour), BrowserHash: sha("x")}
	if err := f.st.CreateAuthRequest(ctx, &ar); err != nil {
		t.Fatal(err)
	}
	code := randomID(32)
	if err := f.st.CreateAuthCode(ctx, store.AuthCode{Hash: sha(code), AuthRequestID: ar.ID, ClientID: ar.ClientID,
		ExpiresAt: f.clock.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	status, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
	if status != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Fatalf("exchange: %d %v", status, body)
	}
}

func TestSecondFactorDiscovery(t *testing.T) {
	f := newFixture(t)
	prov, err := oidc.NewProvider(context.Background(), f.issuer)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		ACR    []string `json:"acr_values_supported"`
		Claims []string `json:"claims_supported"`
	}
	if err := prov.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.ACR, []string{ACRPassword, ACRTwoFactor}) || !slices.Contains(d.Claims, "amr") || !slices.Contains(d.Claims, "acr") {
		t.Fatalf("discovery %+v", d)
	}
}

// signIn posts sesame's own sign-in form in b.
func (b *browser) signIn(username string) result {
	b.f.t.Helper()
	return b.post(b.f.issuer+"/signin", url.Values{"username": {username}, "password": {testPassword}, "next": {"/account"}})
}

// TestSecondFactorPolicyMatrix: off, offered and required, for a hoster
// admin, a referent and a member, with no factor enrolled: who is walked
// through enrolment at sign-in. A person with a factor is always asked for
// it, whatever the policy.
func TestSecondFactorPolicyMatrix(t *testing.T) {
	cases := []struct {
		structure store.MFAPolicy
		admins    store.MFAPolicy
		who       string
		enrol     bool
	}{
		{store.MFADefault, store.MFADefault, "member", false},
		{store.MFADefault, store.MFADefault, "referent", true},
		{store.MFADefault, store.MFADefault, "admin", true},
		{store.MFAOff, store.MFADefault, "member", false},
		{store.MFAOff, store.MFADefault, "referent", false},
		{store.MFAOff, store.MFAOff, "admin", false},
		{store.MFAOff, store.MFADefault, "admin", true}, // the admins' policy is the stricter
		{store.MFAOffered, store.MFADefault, "member", false},
		{store.MFAOffered, store.MFADefault, "referent", false},
		{store.MFAOffered, store.MFAOffered, "admin", false},
		{store.MFARequired, store.MFADefault, "member", true},
		{store.MFARequired, store.MFADefault, "referent", true},
		{store.MFARequired, store.MFAOff, "admin", true}, // admin and member: the structure's is stricter
	}
	for _, tc := range cases {
		t.Run(string(tc.structure)+"/"+string(tc.admins)+"/"+tc.who, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.AdminMFAPolicy = tc.admins })
			ctx := context.Background()
			if _, err := f.st.UpdateStructure(ctx, f.structure.ID, func(s *store.Structure) error { s.MFAPolicy = tc.structure; return nil }); err != nil {
				t.Fatal(err)
			}
			switch tc.who {
			case "referent":
				if err := f.st.PutMembership(ctx, store.Membership{PersonID: f.alice.ID, StructureID: f.structure.ID, Referent: true}); err != nil {
					t.Fatal(err)
				}
			case "admin":
				if _, err := f.st.UpdatePerson(ctx, f.alice.ID, func(p *store.Person) error { p.Admin = true; return nil }); err != nil {
					t.Fatal(err)
				}
			}
			b := f.browser()
			res := b.signIn("alice.martin")
			switch {
			case tc.enrol && !res.isEnrolment():
				t.Fatalf("want the enrolment: %d %.300s", res.status, res.body)
			case tc.enrol && !strings.Contains(res.body, `value="later"`):
				t.Fatalf("a first login within the grace period may put it off")
			case !tc.enrol && (res.isEnrolment() || res.isSecondStep()):
				t.Fatalf("no second step wanted: %.300s", res.body)
			}
			// Once a factor is enrolled it is asked, whatever the policy.
			f.enrolTOTP(f.alice)
			if res := f.browser().signIn("alice.martin"); !res.isSecondStep() {
				t.Fatalf("with a factor: %d %.300s", res.status, res.body)
			}
		})
	}
}

// TestSecondFactorGrace: a referent may put enrolment off until the grace
// period, which starts at their first login asked, ends; then they are
// walked through it with no way around.
func TestSecondFactorGrace(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MFAGrace = 3 * 24 * time.Hour })
	ctx := context.Background()
	if err := f.st.PutMembership(ctx, store.Membership{PersonID: f.alice.ID, StructureID: f.structure.ID, Referent: true}); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	res := b.signIn("alice.martin")
	if !res.isEnrolment() || !strings.Contains(res.body, `value="later"`) {
		t.Fatalf("first login: %d %.300s", res.status, res.body)
	}
	b.post(f.issuer+"/second-factor", url.Values{"action": {"later"}}) // on to /account, not mounted here
	if _, err := f.p.CurrentPerson(mustRequest(t, b, f.issuer)); err != nil {
		t.Fatalf("signed in after later: %v", err)
	}
	p, _ := f.st.GetPerson(ctx, f.alice.ID)
	if !p.MFAGraceUntil.Equal(f.clock.Now().Add(3 * 24 * time.Hour).Truncate(time.Microsecond)) {
		t.Fatalf("grace until %v", p.MFAGraceUntil)
	}
	f.clock.Advance(3*24*time.Hour + time.Minute)
	b2 := f.browser()
	res = b2.signIn("alice.martin")
	if !res.isEnrolment() || strings.Contains(res.body, `value="later"`) {
		t.Fatalf("after the grace period: %d %.300s", res.status, res.body)
	}
	if res := b2.post(f.issuer+"/second-factor", url.Values{"action": {"later"}}); res.status != http.StatusBadRequest {
		t.Fatalf("later after the grace period: %d", res.status)
	}
	done, _ := b2.enrol(res)
	if !strings.Contains(done.body, `value="continue"`) {
		t.Fatalf("after enrolment: %d %.300s", done.status, done.body)
	}
	b2.post(f.issuer+"/second-factor", url.Values{"action": {"continue"}})
	if _, err := f.p.CurrentPerson(mustRequest(t, b2, f.issuer)); err != nil {
		t.Fatalf("signed in after enrolment: %v", err)
	}
}

// TestSecondFactorStepCookie: the step cookie is worth nothing in another
// browser, or once expired.
func TestSecondFactorStepCookie(t *testing.T) {
	f := newFixture(t)
	f.enrolTOTP(f.alice)
	b := f.browser()
	if res := b.signIn("alice.martin"); !res.isSecondStep() {
		t.Fatalf("second step: %d", res.status)
	}
	u, _ := url.Parse(f.issuer)
	var step *http.Cookie
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == stepCookie {
			step = c
		}
	}
	if step == nil {
		t.Fatal("no step cookie")
	}
	other := f.browser()
	other.get(f.issuer + "/signin") // its own browser cookie
	other.client.Jar.SetCookies(u, []*http.Cookie{{Name: stepCookie, Value: step.Value}})
	if res := other.second(f.codeAt(totpSecret, 0)); res.status != http.StatusBadRequest {
		t.Fatalf("step cookie in another browser: %d", res.status)
	}
	f.clock.Advance(stepTTL + time.Second)
	if res := b.second(f.codeAt(totpSecret, 0)); res.status != http.StatusBadRequest || !strings.Contains(res.body, "expiré") {
		t.Fatalf("expired step: %d %.300s", res.status, res.body)
	}
}

// mustRequest is a request carrying b's cookies for the issuer.
func mustRequest(t *testing.T, b *browser, issuer string) *http.Request {
	t.Helper()
	r, _ := http.NewRequest(http.MethodGet, issuer+"/", nil)
	u, _ := url.Parse(issuer)
	for _, c := range b.client.Jar.Cookies(u) {
		r.AddCookie(c)
	}
	return r
}

// TestSecondFactorPromptLogin: prompt=login and an exceeded max_age ask
// both factors again, even in a session opened with two.
func TestSecondFactorPromptLogin(t *testing.T) {
	f := newFixture(t)
	f.enrolTOTP(f.alice)
	c := f.rp(f.gen, secretGen, genRedirect)
	b := f.browser()
	res, state, verifier := c.startLogin(b, "alice.martin")
	c.finishFlow(b.second(f.codeAt(totpSecret, 0)), state, verifier)
	for _, opt := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0")} {
		f.clock.Advance(mfa.Period) // a new code
		res, state, verifier = c.startLogin(b, "alice.martin", opt)
		if !res.isSecondStep() {
			t.Fatalf("the session answered without the second factor: %d %.300s", res.status, res.body)
		}
		if claims := c.finishFlow(b.second(f.codeAt(totpSecret, 0)), state, verifier); claims["acr"] != ACRTwoFactor {
			t.Fatalf("acr %v", claims["acr"])
		}
	}
}

// TestSignInAgain: /signin?prompt=login shows the form to someone signed
// in (the portal sends them there before changing their second factor),
// and the sign-in asks their second factor; the session then says so, and
// when (the portal wants a recent one).
func TestSignInAgain(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.signIn("alice.martin") // a password alone: no factor yet
	first := f.p.SessionAuth(mustRequest(t, b, f.issuer))
	if !slices.Equal(first.AMR, []string{"pwd"}) || !first.Time.Equal(f.clock.Now()) {
		t.Fatalf("session auth %+v at %v", first, f.clock.Now())
	}
	f.enrolTOTP(f.alice)
	f.clock.Advance(time.Hour) // the portal asks for a recent sign-in
	res := b.get(f.issuer + "/signin?next=%2F&prompt=login")
	if !res.isLoginForm() || !strings.Contains(res.body, "confirmez d&#39;abord que c&#39;est bien vous") {
		t.Fatalf("sign in again: %d %.400s", res.status, res.body)
	}
	if res := b.signIn("alice.martin"); !res.isSecondStep() {
		t.Fatalf("second step: %d", res.status)
	}
	b.second(f.codeAt(totpSecret, 0))
	if again := f.p.SessionAuth(mustRequest(t, b, f.issuer)); !slices.Contains(again.AMR, "mfa") || !again.Time.Equal(f.clock.Now()) {
		t.Fatalf("session auth after signing in again: %+v, want mfa at %v", again, f.clock.Now())
	}
}

// TestSecondFactorPostgres runs the second step's writes on PostgreSQL
// (serializable transactions, retried on conflicts): an enrolment at
// login, a code used and replayed, a recovery code spent once with its
// notice queued in the same transaction.
func TestSecondFactorPostgres(t *testing.T) {
	f := newFixtureOn(t, postgresPerCase(t)(t))
	ctx := context.Background()
	c := f.rp(f.gen, secretGen, genRedirect)
	b := f.browser()
	res, state, verifier := c.startLogin(b, "alice.martin", oauth2.SetAuthURLParam("acr_values", ACRTwoFactor))
	done, secret := b.enrol(res)
	codes := regexp.MustCompile(`<li><code>([a-z0-9-]{14})</code></li>`).FindAllStringSubmatch(done.body, -1)
	if len(codes) != mfa.RecoveryCodes {
		t.Fatalf("recovery codes: %d\n%.400s", len(codes), done.body)
	}
	if claims := c.finishFlow(b.post(f.issuer+"/second-factor", url.Values{"action": {"continue"}}), state, verifier); claims["acr"] != ACRTwoFactor {
		t.Fatalf("acr %v", claims["acr"])
	}
	// The enrolment's code cannot serve again; the next step's can.
	b2 := f.browser()
	c.startLogin(b2, "alice.martin")
	if res := b2.second(f.codeAt(secret, 0)); res.status != http.StatusUnauthorized {
		t.Fatalf("the enrolment's code again: %d", res.status)
	}
	f.clock.Advance(mfa.Period)
	if res := b2.second(f.codeAt(secret, 0)); res.location == nil {
		t.Fatalf("the next code: %d %.300s", res.status, res.body)
	}
	for i, want := range []int{0, http.StatusUnauthorized} {
		b := f.browser()
		c.startLogin(b, "alice.martin")
		res := b.second(codes[0][1])
		if (want == 0) != (res.location != nil) || (want != 0 && res.status != want) {
			t.Fatalf("recovery code, use %d: %d %v", i+1, res.status, res.location)
		}
	}
	if js, _ := f.st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindMailRecoveryUsed}); len(js) != 1 {
		t.Fatalf("%d recovery notices, want 1", len(js))
	}
}
