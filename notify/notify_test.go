package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/jobs"
	"sesame/internal/mail"
	"sesame/internal/manage"
	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
	"sesame/onboarding"
)

const publicURL = "https://sso.example.org"

// clock is the injected time, moved by tests instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one test's world: a SQLite store, a mailpit, a notifier and a
// runner with its handlers.
type env struct {
	t      testing.TB
	ctx    context.Context
	clock  *clock
	st     store.Store
	mp     *testenv.Mailpit
	sender mail.Sender
	tokens *onboarding.Tokens
	n      *Notifier
	runner *jobs.Runner
}

func newEnv(t testing.TB, smtp ...mail.SMTPConfig) *env {
	t.Helper()
	return newEnvWith(t, smtp, nil)
}

// newEnvWith is newEnv with an SMTP configuration and a wrapper around the
// real sender (to act on the real server at a chosen moment).
func newEnvWith(t testing.TB, smtp []mail.SMTPConfig, wrap func(*testenv.Mailpit, mail.Sender) mail.Sender) *env {
	t.Helper()
	ctx := context.Background()
	// Tuesday 1 December 2026, 14:00 in Paris.
	c := &clock{t: time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sesame.db"), c.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mp := testenv.StartMailpit(t)
	cfg := mail.SMTPConfig{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSNone, Timeout: 5 * time.Second}
	if len(smtp) > 0 {
		cfg = smtp[0]
		cfg.Host, cfg.Port, cfg.TLS = mp.SMTPHost, mp.SMTPPort, mail.TLSNone
	}
	sender, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.(io.Closer).Close() })
	tokens := &onboarding.Tokens{Key: []byte(strings.Repeat("k", 32)), Now: c.Now}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if tl, ok := t.(*testing.T); ok && testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(tl.Output(), nil))
	}
	var used mail.Sender = sender
	if wrap != nil {
		used = wrap(mp, sender)
	}
	n, err := New(db, used, Config{PublicURL: publicURL + "/", From: "Sesame <sesame@example.org>", Tokens: tokens, Now: c.Now}, logger)
	if err != nil {
		t.Fatal(err)
	}
	rc := jobs.DefaultConfig()
	rc.Now = c.Now
	rc.Workers = 1
	r := jobs.NewRunner(db, rc, logger)
	n.Register(r)
	return &env{t: t, ctx: ctx, clock: c, st: db, mp: mp, sender: sender, tokens: tokens, n: n, runner: r}
}

// drain runs the queue until no job is pending or running, moving the
// clock past every backoff.
func (e *env) drain() {
	e.t.Helper()
	for i := 0; i < 1000; i++ {
		if _, err := e.runner.RunOnce(e.ctx); err != nil {
			e.t.Fatalf("RunOnce: %v", err)
		}
		counts, err := e.st.CountJobs(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if counts[store.JobPending] == 0 && counts[store.JobRunning] == 0 {
			return
		}
		e.clock.Add(time.Hour)
	}
	e.t.Fatal("the queue did not drain")
}

type fixture struct {
	structure store.Structure
	services  []store.Service
}

func (e *env) structure(name, contact string, services ...[2]string) fixture {
	e.t.Helper()
	slug := fmt.Sprintf("s%d", time.Now().UnixNano())
	s := store.Structure{Slug: slug, Name: name, Contact: contact}
	if err := e.st.CreateStructure(e.ctx, &s); err != nil {
		e.t.Fatal(err)
	}
	f := fixture{structure: s}
	for i, sv := range services {
		svc := store.Service{StructureID: s.ID, Kind: store.KindNextcloud, Slug: fmt.Sprintf("svc%d", i), Name: sv[0],
			BaseURL: sv[1], ClientID: slug + fmt.Sprint(i), SigningAlg: "RS256", AuthMethod: "client_secret_basic",
			RedirectURIs: []string{"https://app.example.org/cb"}, DefaultRole: "user"}
		if err := e.st.CreateService(e.ctx, &svc); err != nil {
			e.t.Fatal(err)
		}
		f.services = append(f.services, svc)
	}
	return f
}

func (e *env) person(f fixture, given, family, username, email, lang string) store.Person {
	e.t.Helper()
	p := store.Person{Username: username, Email: email, GivenName: given, FamilyName: family,
		DisplayName: strings.TrimSpace(given + " " + family), Language: lang, State: store.StateInvited}
	if err := e.st.CreatePerson(e.ctx, &p); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: f.structure.ID}); err != nil {
		e.t.Fatal(err)
	}
	for _, s := range f.services {
		if err := e.st.PutGrant(e.ctx, store.Grant{PersonID: p.ID, ServiceID: s.ID, Role: "user"}); err != nil {
			e.t.Fatal(err)
		}
	}
	return p
}

// issue stores a token and enqueues its email, as onboarding does.
func (e *env) issue(p store.Person, f fixture, purpose store.TokenPurpose) time.Time {
	e.t.Helper()
	var exp time.Time
	err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		exp, err = e.tokens.Issue(ctx, tx, p.ID, f.structure.ID, purpose)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return exp
}

func (e *env) enqueue(kind string, payload any) store.Job {
	e.t.Helper()
	b, _ := json.Marshal(payload)
	j := store.Job{Kind: kind, Payload: b}
	if _, err := e.st.EnqueueJob(e.ctx, &j); err != nil {
		e.t.Fatal(err)
	}
	return j
}

var hrefRE = regexp.MustCompile(`(?i)\b(?:href|src|action)\s*=\s*"([^"]*)"`)

// checkLinks fails when an HTML body links anywhere but the public URL.
func checkLinks(t testing.TB, html string) {
	t.Helper()
	for _, m := range hrefRE.FindAllStringSubmatch(html, -1) {
		if !strings.HasPrefix(m[1], publicURL+"/") {
			t.Errorf("email links to %q, outside %s", m[1], publicURL)
		}
	}
}

func TestActivationEmailFrench(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"}, [2]string{"Agenda", "https://agenda.lebeta.org/"})
	p := e.person(f, "Camille", "Dupont", "camille.dupont", "camille@example.org", "")
	e.issue(p, f, store.PurposeActivate)
	e.drain()

	msgs := e.mp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("mailpit holds %d messages; want 1", len(msgs))
	}
	sum := msgs[0]
	if sum.Subject != "Votre compte Le Bêta : choisissez votre mot de passe" {
		t.Errorf("subject %q", sum.Subject)
	}
	if len(sum.To) != 1 || sum.To[0].Address != "camille@example.org" || sum.To[0].Name != "Camille Dupont" {
		t.Errorf("to %+v", sum.To)
	}
	jobsDone, _ := e.st.ListJobs(e.ctx, store.JobFilter{Kind: jobs.KindMailActivate})
	if want := fmt.Sprintf("job-%d.mail.activate@sso.example.org", jobsDone[0].ID); sum.MessageID != want {
		t.Errorf("Message-ID %q; want %q", sum.MessageID, want)
	}
	m := e.mp.Message(sum.ID)
	for _, want := range []string{
		"Bonjour Camille,", "Le Bêta vous a ouvert un compte", "Votre identifiant est : camille.dupont",
		"valable jusqu'au mardi 8 décembre 2026 à 14 h 00",
		"- Agenda : https://agenda.lebeta.org/", "- Nextcloud : https://cloud.lebeta.org",
		"Une question ? Écrivez à contact@lebeta.org.",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{"Bonjour Camille,", "mardi 8 décembre 2026 à 14 h 00", "Activer mon compte", "<strong>camille.dupont</strong>"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
	checkLinks(t, m.HTML)

	// The link's secret hashes to the stored token.
	link := regexp.MustCompile(regexp.QuoteMeta(publicURL) + `/activate/([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Text)
	if link == nil {
		t.Fatalf("no activation link in:\n%s", m.Text)
	}
	tok, err := e.st.GetToken(e.ctx, onboarding.Hash(link[1]))
	if err != nil || tok.PersonID != p.ID || tok.Purpose != store.PurposeActivate {
		t.Fatalf("the link's secret does not match the stored token: %+v, %v", tok, err)
	}
	if !strings.Contains(m.HTML, `href="`+link[0]+`"`) {
		t.Error("the HTML part does not carry the same link")
	}
	raw := string(e.mp.Raw(sum.ID))
	for _, want := range []string{"Auto-Submitted: auto-generated", "multipart/alternative", "Date: "} {
		if !strings.Contains(raw, want) {
			t.Errorf("raw message lacks %q", want)
		}
	}
	audit, _ := e.st.ListAudit(e.ctx, store.AuditFilter{Action: "mail.sent"})
	if len(audit) != 1 || audit[0].Target != "mail:<"+sum.MessageID+">" {
		t.Errorf("audit of the sent mail: %+v", audit)
	}
}

func TestActivationEmailEnglish(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})
	p := e.person(f, "Alex", "Smith", "alex.smith", "alex@example.org", "en")
	e.issue(p, f, store.PurposeActivate)
	e.drain()
	msgs := e.mp.Messages()
	if len(msgs) != 1 || msgs[0].Subject != "Your Le Bêta account: choose your password" {
		t.Fatalf("messages %+v", msgs)
	}
	m := e.mp.Message(msgs[0].ID)
	for _, want := range []string{"Hello Alex,", "Your username is: alex.smith", "valid until Tuesday 8 December 2026 at 14:00 (Paris time)", "- Nextcloud: https://cloud.lebeta.org"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "Bonjour") || !strings.Contains(m.HTML, `lang="en"`) {
		t.Error("an English person got French")
	}
}

func TestHostileValuesAreEscaped(t *testing.T) {
	e := newEnv(t)
	f := e.structure(`<script>alert("s")</script>`, "x@example.org\r\nBcc: c@example.net",
		[2]string{`<b onmouseover="x">Cloud</b>`, "javascript:alert(1)"}, [2]string{"Wiki", "https://evil.example.net/phish"})
	p := e.person(f, "Eve\r\nBcc: victim@example.net", `"><img src=x onerror=alert(1)>`, "eve", "eve@example.org", "fr")
	e.issue(p, f, store.PurposeActivate)
	e.drain()
	msgs := e.mp.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0].Address != "eve@example.org" {
		t.Fatalf("want one message to eve only: %+v", msgs)
	}
	raw := string(e.mp.Raw(msgs[0].ID))
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	for line := range strings.SplitSeq(head, "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") {
			t.Fatalf("header injected: %q", line)
		}
	}
	m := e.mp.Message(msgs[0].ID)
	for _, bad := range []string{"<script>", "<img", "<b onmouseover", "javascript:"} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("HTML part contains %q unescaped", bad)
		}
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Error("the structure's name is not shown escaped")
	}
	if strings.Contains(m.Text, "javascript:") {
		t.Error("a javascript: URL is shown")
	}
	checkLinks(t, m.HTML) // the service's address is text, never a link
}

func TestResetAccessAndPasswordChangedEmails(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"}, [2]string{"Paheko", "https://compta.lebeta.org"})
	p := e.person(f, "Camille", "Dupont", "camille.dupont", "camille@example.org", "fr")
	if _, err := e.st.UpdatePerson(e.ctx, p.ID, func(p *store.Person) error {
		p.State, p.PasswordChangedAt = store.StateActive, time.Date(2026, 11, 30, 8, 5, 0, 0, time.UTC)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.issue(p, f, store.PurposeReset)
	e.enqueue(jobs.KindMailAccess, jobs.AccessMail{PersonID: p.ID, StructureID: f.structure.ID, ServiceIDs: []string{f.services[1].ID}})
	e.enqueue(jobs.KindMailPasswordChanged, jobs.PersonRef{PersonID: p.ID})
	e.drain()
	bySubject := e.textsBySubject(t)
	reset := bySubject["Votre compte Le Bêta : changement de mot de passe"]
	if !regexp.MustCompile(regexp.QuoteMeta(publicURL)+`/reset/[A-Za-z0-9_-]{43}\r?\n`).MatchString(reset) ||
		!strings.Contains(reset, "valable jusqu'au mardi 1 décembre 2026 à 15 h 00") {
		t.Errorf("reset email:\n%s", reset)
	}
	access := bySubject["Vous avez maintenant accès à Paheko"]
	if !strings.Contains(access, "- Paheko : https://compta.lebeta.org") || strings.Contains(access, "Nextcloud") ||
		!strings.Contains(access, "Le Bêta vous a donné accès") || !strings.Contains(access, publicURL+"/forgot") {
		t.Errorf("access email (%v):\n%s", keys(bySubject), access)
	}
	changed := bySubject["Votre mot de passe a été changé"]
	if !strings.Contains(changed, "a été changé le lundi 30 novembre 2026 à 9 h 05") || !strings.Contains(changed, "prévenez contact@lebeta.org") {
		t.Errorf("password changed email:\n%s", changed)
	}
	if len(bySubject) != 3 {
		t.Errorf("got %d distinct emails: %v", len(bySubject), keys(bySubject))
	}
}

// TestMFAResetEmail: a person whose second factor was reset, or whose
// recovery code was used, is told
// when, and whom to warn if it was not them, in their language, through
// a real SMTP server.
func TestMFAResetEmail(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})
	fr := e.person(f, "Camille", "Dupont", "camille.dupont", "camille@example.org", "fr")
	en := e.person(f, "Sam", "Lee", "sam.lee", "sam@example.org", "en")
	e.enqueue(jobs.KindMailMFAReset, jobs.PersonRef{PersonID: fr.ID})
	e.enqueue(jobs.KindMailMFAReset, jobs.PersonRef{PersonID: en.ID})
	e.enqueue(jobs.KindMailRecoveryUsed, jobs.PersonRef{PersonID: fr.ID})
	e.drain()
	bySubject := e.textsBySubject(t)
	frText := bySubject["La deuxième étape de connexion de votre compte a été réinitialisée"]
	if !strings.Contains(frText, "camille.dupont") || !strings.Contains(frText, "prévenez contact@lebeta.org") ||
		!strings.Contains(frText, publicURL+"/forgot") || !strings.Contains(frText, " à ") {
		t.Errorf("French email (%v):\n%s", keys(bySubject), frText)
	}
	if used := bySubject["Un code de secours a servi à vous connecter"]; !strings.Contains(used, "camille.dupont") ||
		!strings.Contains(used, "prévenez contact@lebeta.org") {
		t.Errorf("recovery code email (%v):\n%s", keys(bySubject), used)
	}
	enText := bySubject["The second login step of your account was reset"]
	if !strings.Contains(enText, "sam.lee") || !strings.Contains(enText, "tell contact@lebeta.org") {
		t.Errorf("English email:\n%s", enText)
	}
}

// textsBySubject reads every email mailpit received: its text by subject,
// each HTML part's links checked.
func (e *env) textsBySubject(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range e.mp.Messages() {
		m := e.mp.Message(s.ID)
		out[s.Subject] = m.Text
		checkLinks(t, m.HTML)
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestEmailsThatNoLongerMakeSenseAreNotSent(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})

	// A token replaced by a newer one: only the newer link goes out.
	a := e.person(f, "Ana", "A", "ana", "ana@example.org", "fr")
	e.issue(a, f, store.PurposeActivate)
	e.issue(a, f, store.PurposeActivate)
	// A used token.
	b := e.person(f, "Bea", "B", "bea", "bea@example.org", "fr")
	e.issue(b, f, store.PurposeActivate)
	all, _ := e.st.ListJobs(e.ctx, store.JobFilter{Kind: jobs.KindMailActivate})
	var bNonce jobs.TokenMail
	json.Unmarshal(all[len(all)-1].Payload, &bNonce)
	if _, err := e.st.ConsumeToken(e.ctx, onboarding.Hash(e.tokens.Secret(bNonce.Nonce)), store.PurposeActivate, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// A disabled person.
	c := e.person(f, "Cy", "C", "cy", "cy@example.org", "fr")
	e.issue(c, f, store.PurposeActivate)
	if _, err := e.st.UpdatePerson(e.ctx, c.ID, func(p *store.Person) error { p.State = store.StateDisabled; return nil }); err != nil {
		t.Fatal(err)
	}
	// A person who no longer exists, and an access to a service no longer granted.
	e.enqueue(jobs.KindMailPasswordChanged, jobs.PersonRef{PersonID: "no-such-person"})
	if err := e.st.DeleteGrant(e.ctx, a.ID, f.services[0].ID); err != nil {
		t.Fatal(err)
	}
	e.enqueue(jobs.KindMailAccess, jobs.AccessMail{PersonID: a.ID, StructureID: f.structure.ID, ServiceIDs: []string{f.services[0].ID}})
	e.drain()

	msgs := e.mp.Messages()
	if len(msgs) != 1 || msgs[0].To[0].Address != "ana@example.org" {
		t.Fatalf("want only Ana's newest activation email, got %d: %+v", len(msgs), msgs)
	}
	counts, _ := e.st.CountJobs(e.ctx)
	if counts[store.JobDead] != 0 || counts[store.JobDone] != 6 {
		t.Fatalf("job states %v; want all 6 done, none dead", counts)
	}

	// An expired link is not sent either.
	d := e.person(f, "Dan", "D", "dan", "dan@example.org", "fr")
	e.issue(d, f, store.PurposeReset)
	e.clock.Add(2 * time.Hour)
	e.drain()
	if n := len(e.mp.Messages()); n != 1 {
		t.Fatalf("an expired reset link was emailed (%d messages)", n)
	}
}

func TestBrokenJobsGoDead(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org")
	p := e.person(f, "Camille", "Dupont", "camille.dupont", "camille@example.org", "fr")
	bad := []store.Job{
		e.enqueue(jobs.KindMailActivate, "not an object"),
		e.enqueue(jobs.KindMailReset, jobs.TokenMail{PersonID: p.ID}), // no nonce
		e.enqueue(jobs.KindMailAccess, map[string]any{"person_id": p.ID}),
		e.enqueue(jobs.KindMailPasswordChanged, map[string]any{}),
	}
	// A reset job carrying the nonce of an activation token.
	e.issue(p, f, store.PurposeActivate)
	act, _ := e.st.ListJobs(e.ctx, store.JobFilter{Kind: jobs.KindMailActivate})
	var tm jobs.TokenMail
	json.Unmarshal(act[0].Payload, &tm)
	bad = append(bad, e.enqueue(jobs.KindMailReset, tm))
	// An address the mail package refuses to send to (a permanent error).
	q := e.person(f, "Q", "Q", "q", "q@example.org", "fr")
	if _, err := e.st.UpdatePerson(e.ctx, q.ID, func(p *store.Person) error { p.Email = "q@example.org, r@example.org"; return nil }); err != nil {
		t.Fatal(err)
	}
	bad = append(bad, e.enqueue(jobs.KindMailPasswordChanged, jobs.PersonRef{PersonID: q.ID}))
	e.drain()
	for _, j := range bad {
		got, _ := e.st.GetJob(e.ctx, j.ID)
		if got.State != store.JobDead || got.Attempts != 1 || got.LastError == "" {
			t.Errorf("job %s %s: state %s after %d attempts (%q); want dead at once", j.Kind, j.Payload, got.State, got.Attempts, got.LastError)
		}
	}
	if msgs := e.mp.Messages(); len(msgs) != 1 || msgs[0].To[0].Address != "camille@example.org" {
		t.Fatalf("want only the genuine activation email, got %+v", msgs)
	}
}

// TestNotSentTwice runs the handler of a job whose message was already
// accepted (as after a crash between the send and the job's completion).
func TestNotSentTwice(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org")
	p := e.person(f, "Camille", "Dupont", "camille.dupont", "camille@example.org", "fr")
	e.issue(p, f, store.PurposeActivate)
	e.drain()
	all, _ := e.st.ListJobs(e.ctx, store.JobFilter{Kind: jobs.KindMailActivate})
	job := all[0]
	job.Attempts++ // a later claim of the same job
	if err := e.n.handleToken(store.PurposeActivate)(e.ctx, job); err != nil {
		t.Fatal(err)
	}
	if n := len(e.mp.Messages()); n != 1 {
		t.Fatalf("the same job's email arrived %d times", n)
	}
}

// stopAfter stops mailpit (for real: the process is killed) just before
// the (after+1)th message is handed to the real SMTP sender.
type stopAfter struct {
	mail.Sender
	mp    *testenv.Mailpit
	after int
	mu    sync.Mutex
	calls int
}

func (s *stopAfter) Send(ctx context.Context, msgs ...mail.Message) error {
	s.mu.Lock()
	s.calls++
	if s.calls == s.after+1 {
		s.mp.Stop()
	}
	s.mu.Unlock()
	return s.Sender.Send(ctx, msgs...)
}

// TestMailpitDownDuringImport stops the SMTP server while 200 activation
// emails are being sent, starts it again, and checks that every person got
// exactly one email.
func TestMailpitDownDuringImport(t *testing.T) {
	var stopper *stopAfter
	e := newEnvWith(t, nil, func(mp *testenv.Mailpit, s mail.Sender) mail.Sender {
		stopper = &stopAfter{Sender: s, mp: mp, after: 60}
		return stopper
	})
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})
	const n = 200
	people := make([]store.Person, n)
	for i := range n {
		people[i] = e.person(f, fmt.Sprintf("P%03d", i), "Test", fmt.Sprintf("p%03d", i), fmt.Sprintf("p%03d@example.org", i), "fr")
		e.issue(people[i], f, store.PurposeActivate)
	}
	// Run what is due: 60 emails go out, then the server is gone and the
	// rest fail (temporary errors, retried later).
	for i := 0; ; i++ {
		k, err := e.runner.RunOnce(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 || i > 1000 {
			break
		}
	}
	counts, _ := e.st.CountJobs(e.ctx)
	if counts[store.JobDone] != 60 || counts[store.JobDead] != 0 {
		t.Fatalf("job states with the server down: %v; want 60 done, the rest waiting", counts)
	}
	pending, _ := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobPending, Limit: 1000})
	if len(pending) != n-60 || pending[0].LastError == "" {
		t.Fatalf("%d pending jobs, first error %q", len(pending), pending[0].LastError)
	}
	e.mp.Start()
	e.drain()

	counts, _ = e.st.CountJobs(e.ctx)
	if counts[store.JobDone] != n {
		t.Fatalf("job states after the restart: %v", counts)
	}
	per := map[string]int{}
	for _, m := range e.mp.Messages() {
		per[m.To[0].Address]++
	}
	for _, p := range people {
		if per[p.Email] != 1 {
			t.Errorf("%s got %d emails", p.Email, per[p.Email])
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sender := mail.NewFileSender(t.TempDir(), nil)
	tokens := &onboarding.Tokens{Key: make([]byte, 32)}
	good := Config{PublicURL: publicURL, From: "sesame@example.org", Tokens: tokens}
	if _, err := New(db, sender, good, nil); err != nil {
		t.Fatalf("a good config was refused: %v", err)
	}
	for name, cfg := range map[string]Config{
		"no public URL":     {From: good.From, Tokens: tokens},
		"relative URL":      {PublicURL: "/sso", From: good.From, Tokens: tokens},
		"javascript URL":    {PublicURL: "javascript:alert(1)", From: good.From, Tokens: tokens},
		"URL with query":    {PublicURL: publicURL + "/?x=1", From: good.From, Tokens: tokens},
		"URL with userinfo": {PublicURL: "https://u:p@sso.example.org", From: good.From, Tokens: tokens},
		"bad from":          {PublicURL: publicURL, From: "nobody", Tokens: tokens},
		"from with CRLF":    {PublicURL: publicURL, From: "a@example.org\r\nBcc: b@example.org", Tokens: tokens},
		"no tokens":         {PublicURL: publicURL, From: good.From},
		"short token key":   {PublicURL: publicURL, From: good.From, Tokens: &onboarding.Tokens{Key: []byte("short")}},
	} {
		if _, err := New(db, sender, cfg, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New = %v; want ErrConfig", name, err)
		}
	}
}

func TestEveryTemplateRendersInEveryLanguage(t *testing.T) {
	tm, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	// A name no template text contains by chance, so finding it proves the
	// greeting uses the person's name.
	const name = "Maëlys-Ombeline"
	greeting := map[string]string{"fr": "Bonjour " + name + ",", "en": "Hello " + name + ","}
	for _, lang := range languages {
		for _, email := range emails {
			r, err := tm.render(lang, email, emailData{Lang: lang, Name: name, Username: "u", Structure: "S",
				Services: []serviceView{{Name: "A", URL: "https://a.example.org"}}, ServiceNames: "A",
				Link: publicURL + "/activate/x", Expiry: "E", When: "W", PublicURL: publicURL, ForgotLink: publicURL + "/forgot"})
			if err != nil {
				t.Fatalf("%s/%s: %v", lang, email, err)
			}
			if r.Subject == "" || !strings.HasPrefix(r.Text, greeting[lang]) || !strings.Contains(r.HTML, "<p>"+greeting[lang]+"</p>") ||
				!strings.Contains(r.HTML, `<html lang="`+lang+`">`) {
				t.Errorf("%s/%s does not greet %s (%q):\n%s\n%s", lang, email, name, greeting[lang], r.Text, r.HTML)
			}
			checkLinks(t, r.HTML)
		}
	}
}

func TestFormatDate(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, c := range []struct {
		t      time.Time
		fr, en string
	}{
		{time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC), "mardi 1 décembre 2026 à 14 h 00", "Tuesday 1 December 2026 at 14:00 (Paris time)"},
		{time.Date(2026, 8, 15, 7, 5, 0, 0, time.UTC), "samedi 15 août 2026 à 9 h 05", "Saturday 15 August 2026 at 09:05 (Paris time)"},
		{time.Date(2027, 2, 28, 23, 30, 0, 0, time.UTC), "lundi 1 mars 2027 à 0 h 30", "Monday 1 March 2027 at 00:30 (Paris time)"},
	} {
		if got := i18n.DateTime(c.t, paris, "fr"); got != c.fr {
			t.Errorf("fr %v = %q; want %q", c.t, got, c.fr)
		}
		if got := i18n.DateTime(c.t, paris, "en"); got != c.en {
			t.Errorf("en %v = %q; want %q", c.t, got, c.en)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for the runner's workers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLostReplyIsWarnedOnRetry: the SMTP server stores the activation email
// but its 250 is lost (the connection drops after the data). The retry sends
// the email again, and the attempts after the lost reply log that the person
// may receive it twice, even past a retry that could not connect at all.
// mailpit cannot lose a reply, so testenv's minimal SMTP peer plays the
// server.
func TestLostReplyIsWarnedOnRetry(t *testing.T) {
	srv := testenv.StartLossySMTP(t, 1)
	e := newEnvWith(t, nil, func(_ *testenv.Mailpit, _ mail.Sender) mail.Sender {
		s, err := mail.NewSMTP(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.(io.Closer).Close() })
		return s
	})
	var logs lockedBuffer
	e.n.log = slog.New(slog.NewTextHandler(&logs, nil))
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})
	p := e.person(f, "Maëlys", "Ombeline", "maelys.ombeline", "maelys@example.org", "fr")
	e.issue(p, f, store.PurposeActivate)
	const warning = "may have been delivered"
	step := func(wantMessages, wantWarnings int, wantState store.JobState) store.Job {
		t.Helper()
		if _, err := e.runner.RunOnce(e.ctx); err != nil {
			t.Fatal(err)
		}
		all, _ := e.st.ListJobs(e.ctx, store.JobFilter{Kind: jobs.KindMailActivate, State: wantState})
		if len(all) != 1 {
			t.Fatalf("no %s activation job; logs:\n%s", wantState, logs.String())
		}
		if n := len(srv.Messages()); n != wantMessages {
			t.Fatalf("the server holds %d messages; want %d", n, wantMessages)
		}
		if n := strings.Count(logs.String(), warning); n != wantWarnings {
			t.Fatalf("%d warnings %q; want %d. Logs:\n%s", n, warning, wantWarnings, logs.String())
		}
		e.clock.Add(time.Hour)
		return all[0]
	}

	// 1. The message reaches the server, the reply is lost: the job will
	// be retried, its error saying the message may be out.
	job := step(1, 0, store.JobPending)
	if !strings.Contains(job.LastError, maybeDeliveredNote) {
		t.Fatalf("last error %q does not say the message may have been delivered", job.LastError)
	}
	// 2. The retry cannot even connect: it warns, and keeps the mark.
	srv.RefuseConnections(1)
	job = step(1, 1, store.JobPending)
	if !strings.Contains(job.LastError, maybeDeliveredNote) || !strings.Contains(job.LastError, "421") {
		t.Fatalf("last error after a refused connection %q", job.LastError)
	}
	// 3. The next retry delivers: the same email a second time, warned.
	step(2, 2, store.JobDone)
	msgs := srv.Messages()
	id := fmt.Sprintf("Message-ID: <job-%d.mail.activate@sso.example.org>", job.ID)
	for i, m := range msgs {
		if !strings.Contains(string(m), id) {
			t.Errorf("message %d lacks %q", i, id)
		}
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("the duplicate is not logged as a warning:\n%s", logs.String())
	}
	audit, _ := e.st.ListAudit(e.ctx, store.AuditFilter{Action: "mail.sent"})
	if len(audit) != 1 {
		t.Errorf("%d mail.sent audit entries; want 1", len(audit))
	}
}

// TestEmailChangedEmail: a person whose account's email was changed is told
// at the address they had (not the new one, which may be someone else's),
// what it is now, and whom to warn, in their language, through a real SMTP
// server; a payload without the former address is refused for good.
func TestEmailChangedEmail(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})
	fr := e.person(f, "Camille", "Dupont", "camille.dupont", "camille.new@example.org", "fr")
	en := e.person(f, "Sam", "Lee", "sam.lee", "sam.new@example.org", "en")
	e.enqueue(jobs.KindMailEmailChanged, jobs.EmailChange{PersonID: fr.ID, Former: "camille@example.org"})
	e.enqueue(jobs.KindMailEmailChanged, jobs.EmailChange{PersonID: en.ID, Former: "sam@example.org"})
	e.enqueue(jobs.KindMailEmailChanged, jobs.PersonRef{PersonID: fr.ID})
	e.drain()
	to := map[string]string{}
	for _, s := range e.mp.Messages() {
		for _, r := range s.To {
			to[s.Subject] += r.Address
		}
	}
	bySubject := e.textsBySubject(t)
	frSubject, enSubject := "L'adresse e-mail de votre compte a été changée", "The email address of your account was changed"
	if to[frSubject] != "camille@example.org" || to[enSubject] != "sam@example.org" {
		t.Errorf("sent to %v, want the former addresses", to)
	}
	if text := bySubject[frSubject]; !strings.Contains(text, "camille.dupont") || !strings.Contains(text, "camille.new@example.org") ||
		!strings.Contains(text, "prévenez tout de suite contact@lebeta.org") {
		t.Errorf("French email (%v):\n%s", keys(bySubject), text)
	}
	if text := bySubject[enSubject]; !strings.Contains(text, "sam.new@example.org") || !strings.Contains(text, "tell contact@lebeta.org") {
		t.Errorf("English email:\n%s", text)
	}
	if n := len(e.mp.Messages()); n != 2 {
		t.Errorf("%d emails, want 2", n)
	}
	dead, _ := e.st.ListJobs(e.ctx, store.JobFilter{State: store.JobDead, Kind: jobs.KindMailEmailChanged})
	if len(dead) != 1 {
		t.Errorf("%d dead jobs, want the one without a former address", len(dead))
	}
}

// TestEmailChangedBackOrCaseOnly: a used account's email changed to a
// wrong address and back before the jobs ran, and one whose email only
// changed case. Neither address is told "your address is now <itself>":
// the account's address is the former one (case-insensitively) again.
func TestEmailChangedBackOrCaseOnly(t *testing.T) {
	e := newEnv(t)
	e.st.SetDisabledJobSinks(jobs.SinkLDAP, "provision")
	f := e.structure("Le Bêta", "contact@lebeta.org")
	a := e.person(f, "Camille", "Dupont", "camille.dupont", "camille@example.org", "en")
	b := e.person(f, "Sam", "Lee", "sam.lee", "Sam.Lee@example.org", "en")
	for _, p := range []store.Person{a, b} {
		if _, err := e.st.UpdatePerson(e.ctx, p.ID, func(x *store.Person) error {
			x.State, x.PasswordHash = store.StateActive, "$argon2id$x"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	m := &manage.Manager{Store: e.st}
	for _, c := range []struct{ id, email string }{
		{a.ID, "camille@exmaple.org"}, // a typo...
		{a.ID, "camille@example.org"}, // ...corrected at once
		{b.ID, "sam.lee@example.org"}, // the case only
	} {
		email := c.email
		if _, err := m.UpdatePerson(e.ctx, "admin:root", c.id, manage.PersonChange{Email: &email}); err != nil {
			t.Fatal(err)
		}
	}
	e.drain()
	for _, s := range e.mp.Messages() {
		text := e.mp.Message(s.ID).Text
		for _, to := range s.To {
			if strings.Contains(strings.ToLower(text), "it is now "+strings.ToLower(to.Address)) {
				t.Errorf("%s is told the address changed to itself:\n%s", to.Address, text)
			}
		}
	}
}
