package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/jobs"
	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/onboarding"
)

// Defaults of the account pages' abuse limits.
const (
	// DefaultLinkRequestTime is the response time of every "forgot
	// password" and "send me a new link" answer, whether or not the address
	// exists: the work is done, then the answer waits until this much time
	// has passed since the request arrived.
	DefaultLinkRequestTime = 400 * time.Millisecond
	// maxSecretLen bounds a link secret (they are 43 characters).
	maxSecretLen = 128
)

// DefaultIPLimit allows 20 form posts at once per client IP, then one every
// 6 seconds.
func DefaultIPLimit(now func() time.Time) *RateLimiter {
	return NewRateLimiter(FormLimitRate.Burst, FormLimitRate.Per, now)
}

// DefaultKeyLimit allows 5 link requests at once per email or username,
// then one every 2 minutes.
func DefaultKeyLimit(now func() time.Time) *RateLimiter {
	return NewRateLimiter(LinkLimitRate.Burst, LinkLimitRate.Per, now)
}

// Account serves the pages a person reaches from an email or when locked
// out: activation (GET/POST /activate/{secret}), reset (GET/POST
// /reset/{secret}), forgotten password (GET/POST /forgot) and "send me a new
// link" (GET/POST /resend).
//
// Setting a password consumes the link's token, stores the argon2id hash,
// activates the person and enqueues the directory update and the "password
// changed" email, all in one transaction; then it ends the person's other
// sessions through Sessions.
type Account struct {
	Store    store.Store
	Tokens   *onboarding.Tokens
	Hasher   *password.Hasher
	Policy   password.Policy
	Renderer *Renderer
	// Sessions ends a person's SSO sessions after a password change; nil
	// means NoSessions (sesame keeps no sessions yet).
	Sessions SessionEnder
	// PublicURL is sesame's public address; https makes cookies Secure and
	// turns HSTS on, and its origin is trusted by the CSRF check.
	PublicURL string
	Now       func() time.Time
	Logger    *slog.Logger
	// IPLimit limits every form post per client IP; nil means
	// DefaultIPLimit.
	IPLimit Limiter
	// KeyLimit limits link requests per email or username; nil means
	// DefaultKeyLimit.
	KeyLimit Limiter
	// ClientIP finds a request's client address; nil means RemoteAddr.
	ClientIP func(*http.Request) string
	// LinkRequestTime is the fixed response time of link requests; zero
	// means DefaultLinkRequestTime.
	LinkRequestTime time.Duration
	// Home serves GET / (Portal.Home); nil means the home page that says
	// how to log in.
	Home http.Handler
}

func (a *Account) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func (a *Account) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

func (a *Account) https() bool { return strings.HasPrefix(a.PublicURL, "https://") }

// Mount registers the account pages on mux, each wrapped in the security
// headers and panic recovery, and every POST in the CSRF check and the
// per-IP rate limit. It panics, as mux.Handle does, when the wiring is
// wrong (no store, renderer, tokens or hasher; a PublicURL that is not an
// absolute URL).
func (a *Account) Mount(mux *http.ServeMux) {
	if a.Store == nil || a.Renderer == nil || a.Tokens == nil || a.Hasher == nil {
		panic("web: Account needs Store, Renderer, Tokens and Hasher")
	}
	if a.Sessions == nil {
		a.Sessions = NoSessions{}
	}
	if a.IPLimit == nil {
		a.IPLimit = DefaultIPLimit(a.Now)
	}
	if a.KeyLimit == nil {
		a.KeyLimit = DefaultKeyLimit(a.Now)
	}
	a.Renderer.SecureCookies = a.https()
	rd := a.Renderer
	page := func(h http.HandlerFunc) http.Handler {
		return SecurityHeaders(a.https(), Recover(rd, h))
	}
	form := func(h http.HandlerFunc) http.Handler {
		protected, err := CSRF(rd, a.PublicURL, LimitByIP(rd, a.IPLimit, a.ClientIP, h))
		if err != nil {
			panic(err)
		}
		return SecurityHeaders(a.https(), Recover(rd, protected))
	}
	mux.Handle("GET /activate/{secret}", page(a.showForm(store.PurposeActivate)))
	mux.Handle("POST /activate/{secret}", form(a.submit(store.PurposeActivate)))
	mux.Handle("GET /reset/{secret}", page(a.showForm(store.PurposeReset)))
	mux.Handle("POST /reset/{secret}", form(a.submit(store.PurposeReset)))
	mux.Handle("GET /forgot", page(a.showRequest(modeForgot)))
	mux.Handle("POST /forgot", form(a.requestLink(modeForgot)))
	mux.Handle("GET /resend", page(a.showRequest(modeResend)))
	mux.Handle("POST /resend", form(a.requestLink(modeResend)))
	// The home page says how to log in and where to go when stuck; any
	// other unknown address gets the same help rather than a bare 404.
	if a.Home != nil {
		mux.Handle("GET /{$}", a.Home)
	} else {
		mux.Handle("GET /{$}", page(func(w http.ResponseWriter, r *http.Request) {
			a.Renderer.Render(w, r, http.StatusOK, "home", &Page{Title: i18n.HomeTitle})
		}))
	}
	mux.Handle("/", page(func(w http.ResponseWriter, r *http.Request) {
		a.Renderer.WriteError(w, r, &Error{Code: ENotFound, Err: fmt.Errorf("web: no page at %s", RedactPath(r.URL.Path))})
	}))
}

// Why a link does not open its form: the sentence the page shows.
var (
	reasonUnknown = i18n.InvalidUnknown
	reasonUsed    = i18n.InvalidUsed
	reasonExpired = i18n.InvalidExpired
)

// errLinkRefused carries a reason for the friendly "link no longer works"
// page out of a transaction.
type errLinkRefused struct{ reason i18n.Key }

func (e *errLinkRefused) Error() string { return "web: link refused: " + e.reason.String() }

// loadLink finds the token of secret for purpose and its person, or the
// reason the link cannot be used.
func (a *Account) loadLink(ctx context.Context, secret string, purpose store.TokenPurpose) (store.Token, store.Person, error) {
	if secret == "" || len(secret) > maxSecretLen {
		return store.Token{}, store.Person{}, &errLinkRefused{reasonUnknown}
	}
	tok, err := a.Store.GetToken(ctx, onboarding.Hash(secret))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return tok, store.Person{}, &errLinkRefused{reasonUnknown}
	case err != nil:
		return tok, store.Person{}, fmt.Errorf("web: get token: %w", err)
	case tok.Purpose != purpose:
		return tok, store.Person{}, &errLinkRefused{reasonUnknown}
	case !tok.UsedAt.IsZero():
		return tok, store.Person{}, &errLinkRefused{reasonUsed}
	case !a.now().Before(tok.ExpiresAt):
		return tok, store.Person{}, &errLinkRefused{reasonExpired}
	}
	p, err := a.Store.GetPerson(ctx, tok.PersonID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return tok, p, &errLinkRefused{reasonUnknown}
	case err != nil:
		return tok, p, fmt.Errorf("web: get person: %w", err)
	}
	if err := usable(p, purpose); err != nil {
		return tok, p, err
	}
	return tok, p, nil
}

// usable says whether a link of purpose may set p's password: never for a
// disabled person, and an activation link only while p is invited.
func usable(p store.Person, purpose store.TokenPurpose) error {
	switch {
	case p.State == store.StateDisabled:
		return &errLinkRefused{reasonUnknown}
	case purpose == store.PurposeActivate && p.State != store.StateInvited:
		return &errLinkRefused{reasonUsed}
	}
	return nil
}

// linkInvalidView is the data of link_invalid.html.
type linkInvalidView struct {
	Reason i18n.Key
}

// serviceView is one service shown on a page.
type serviceView struct {
	Name string
	URL  string
	Role string
}

// formView is the data of the password form and of its success page.
type formView struct {
	Purpose    string
	Action     string
	Person     store.Person
	Name       string
	FirstName  string
	Structures []string
	Services   []serviceView
	MinLength  int
	Errors     map[string]string // field -> message
}

func displayName(p store.Person) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	if n := strings.TrimSpace(p.GivenName + " " + p.FamilyName); n != "" {
		return n
	}
	return p.Username
}

func firstName(p store.Person) string {
	if p.GivenName != "" {
		return p.GivenName
	}
	return displayName(p)
}

// describe loads what the pages show of p: structures and services.
func (a *Account) describe(ctx context.Context, p store.Person) ([]string, []serviceView, error) {
	ms, err := a.Store.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID})
	if err != nil {
		return nil, nil, fmt.Errorf("web: list memberships: %w", err)
	}
	var structures []string
	for _, m := range ms {
		s, err := a.Store.GetStructure(ctx, m.StructureID)
		if err != nil {
			return nil, nil, fmt.Errorf("web: get structure: %w", err)
		}
		structures = append(structures, s.Name)
	}
	gs, err := a.Store.ListGrants(ctx, store.GrantFilter{PersonID: p.ID})
	if err != nil {
		return nil, nil, fmt.Errorf("web: list grants: %w", err)
	}
	var services []serviceView
	for _, g := range gs {
		s, err := a.Store.GetService(ctx, g.ServiceID)
		if err != nil {
			return nil, nil, fmt.Errorf("web: get service: %w", err)
		}
		services = append(services, serviceView{Name: s.Name, URL: s.BaseURL, Role: g.Role})
	}
	slices.SortFunc(services, func(a, b serviceView) int { return strings.Compare(a.Name, b.Name) })
	return structures, services, nil
}

func (a *Account) minLength() int {
	if a.Policy.MinLength > 0 {
		return a.Policy.MinLength
	}
	return password.DefaultMinLength
}

func (a *Account) formView(ctx context.Context, r *http.Request, p store.Person, purpose store.TokenPurpose) (*formView, error) {
	structures, services, err := a.describe(ctx, p)
	if err != nil {
		return nil, err
	}
	return &formView{
		Purpose: string(purpose), Action: r.URL.Path, Person: p,
		Name: displayName(p), FirstName: firstName(p),
		Structures: structures, Services: services, MinLength: a.minLength(),
	}, nil
}

func titleOf(purpose store.TokenPurpose) i18n.Key {
	if purpose == store.PurposeReset {
		return i18n.ResetTitle
	}
	return i18n.ActivateTitle
}

// only returns the one structure of a person, or "" when there are none or
// several (the header bar then shows sesame's name alone).
func only(structures []string) string {
	if len(structures) == 1 {
		return structures[0]
	}
	return ""
}

// refuse shows the friendly page for a link that cannot be used, or the
// error page for any other error.
func (a *Account) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var lr *errLinkRefused
	if !errors.As(err, &lr) {
		a.Renderer.WriteError(w, r, err)
		return
	}
	status := http.StatusGone
	if lr.reason == reasonUnknown {
		status = http.StatusNotFound
	}
	a.Renderer.Render(w, r, status, "link_invalid", &Page{Title: i18n.InvalidTitle,
		Data: linkInvalidView{Reason: lr.reason}})
}

func (a *Account) showForm(purpose store.TokenPurpose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		_, p, err := a.loadLink(ctx, r.PathValue("secret"), purpose)
		if err != nil {
			a.refuse(w, r, err)
			return
		}
		v, err := a.formView(ctx, r, p, purpose)
		if err != nil {
			a.Renderer.WriteError(w, r, err)
			return
		}
		a.Renderer.Render(w, r, http.StatusOK, "password_form", &Page{Title: titleOf(purpose), Structure: only(v.Structures), Data: v})
	}
}

func (a *Account) submit(purpose store.TokenPurpose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := ParseForm(w, r); err != nil {
			a.Renderer.WriteError(w, r, formError(err))
			return
		}
		secret := r.PathValue("secret")
		_, p, err := a.loadLink(ctx, secret, purpose)
		if err != nil {
			a.refuse(w, r, err)
			return
		}
		lang := Lang(r)
		plain, confirm := r.PostForm.Get("password"), r.PostForm.Get("confirm")
		v, err := a.formView(ctx, r, p, purpose)
		if err != nil {
			a.Renderer.WriteError(w, r, err)
			return
		}
		v.Errors = map[string]string{}
		switch {
		case plain == "":
			v.Errors["password"] = i18n.T(lang, i18n.ErrorRequired)
		case plain != confirm:
			v.Errors["confirm"] = i18n.T(lang, i18n.ErrorMismatch)
		default:
			inputs := append([]string{p.GivenName, p.FamilyName, p.DisplayName, p.Email, p.Username}, v.Structures...)
			if prob := a.Policy.Check(plain, inputs...); prob != nil {
				v.Errors["password"] = prob.Message(lang)
			}
		}
		if len(v.Errors) > 0 {
			a.Renderer.Render(w, r, http.StatusUnprocessableEntity, "password_form", &Page{Title: titleOf(purpose),
				Structure: only(v.Structures), Data: v})
			return
		}
		hash, err := a.Hasher.Hash(ctx, plain)
		if err != nil {
			a.Renderer.WriteError(w, r, &Error{Code: ErrorCode(err), Err: fmt.Errorf("web: hash password: %w", err),
				RetryAfter: 5 * time.Second})
			return
		}
		personID, err := a.setPassword(ctx, secret, purpose, hash)
		if err != nil {
			a.refuse(w, r, err)
			return
		}
		if err := a.Sessions.EndAllSessions(ctx, personID); err != nil {
			a.logger().ErrorContext(ctx, "web: password changed but the other sessions could not be ended",
				"person", personID, "err", err)
		}
		p, err = a.Store.GetPerson(ctx, personID)
		if err != nil {
			a.Renderer.WriteError(w, r, fmt.Errorf("web: reload person: %w", err))
			return
		}
		v, err = a.formView(ctx, r, p, purpose)
		if err != nil {
			a.Renderer.WriteError(w, r, err)
			return
		}
		title := i18n.ActivateDone
		if purpose == store.PurposeReset {
			title = i18n.ResetDone
		}
		a.Renderer.Render(w, r, http.StatusOK, "password_done", &Page{Title: title, Structure: only(v.Structures), Data: v})
	}
}

// setPassword consumes the token of secret and sets the password of the
// token's person (never anyone else's), in one transaction with the jobs
// and the audit entry. It returns the person's id.
func (a *Account) setPassword(ctx context.Context, secret string, purpose store.TokenPurpose, hash string) (string, error) {
	now := a.now()
	var personID string
	err := a.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		tok, err := tx.ConsumeToken(ctx, onboarding.Hash(secret), purpose, now)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return &errLinkRefused{reasonUnknown}
		case errors.Is(err, store.ErrTokenUsed):
			return &errLinkRefused{reasonUsed}
		case errors.Is(err, store.ErrTokenExpired):
			return &errLinkRefused{reasonExpired}
		case err != nil:
			return fmt.Errorf("web: consume token: %w", err)
		}
		personID = tok.PersonID
		_, err = tx.UpdatePerson(ctx, tok.PersonID, func(p *store.Person) error {
			if err := usable(*p, purpose); err != nil {
				return err
			}
			p.PasswordHash = hash
			p.State = store.StateActive
			p.PasswordChangedAt = now
			return nil
		})
		if errors.Is(err, store.ErrNotFound) {
			return &errLinkRefused{reasonUnknown}
		}
		if err != nil {
			return fmt.Errorf("web: update person: %w", err)
		}
		// Any other link of theirs (a reset asked for meanwhile, an older
		// activation) stops working with the new password.
		if _, err := tx.RevokeTokens(ctx, tok.PersonID); err != nil {
			return fmt.Errorf("web: revoke links: %w", err)
		}
		ref, _ := json.Marshal(jobs.PersonRef{PersonID: tok.PersonID})
		if _, err := tx.EnqueueJob(ctx, &store.Job{Kind: jobs.KindLDAPPerson,
			DedupeKey: jobs.DedupeLDAPPerson(tok.PersonID), Payload: ref}); err != nil {
			return fmt.Errorf("web: enqueue %s: %w", jobs.KindLDAPPerson, err)
		}
		if _, err := tx.EnqueueJob(ctx, &store.Job{Kind: jobs.KindMailPasswordChanged, Payload: ref}); err != nil {
			return fmt.Errorf("web: enqueue %s: %w", jobs.KindMailPasswordChanged, err)
		}
		action := "person.activate"
		if purpose == store.PurposeReset {
			action = "person.password.reset"
		}
		if err := tx.AppendAudit(ctx, &store.AuditEntry{Time: now, Actor: "person:" + tok.PersonID,
			Action: action, Target: "person:" + tok.PersonID}); err != nil {
			return fmt.Errorf("web: audit: %w", err)
		}
		return nil
	})
	return personID, err
}

// The two kinds of link request page.
const (
	modeForgot = "forgot"
	modeResend = "resend"
)

// requestView is the data of request_link.html and link_sent.html.
type requestView struct {
	Mode       string
	Intro      i18n.Key
	Submit     i18n.Key
	Identifier string
	Error      string
}

// requestPage is the page of a link request of mode, with the view's
// sentences filled in.
func requestPage(mode string, v requestView) *Page {
	v.Mode, v.Intro, v.Submit = mode, i18n.ForgotIntro, i18n.ForgotSubmit
	title := i18n.ForgotTitle
	if mode == modeResend {
		v.Intro, v.Submit, title = i18n.ResendIntro, i18n.ResendSubmit, i18n.ResendTitle
	}
	return &Page{Title: title, Data: v}
}

func (a *Account) showRequest(mode string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a.Renderer.Render(w, r, http.StatusOK, "request_link", requestPage(mode, requestView{}))
	}
}

// requestLink answers "forgot password" and "send me a new link" the same
// way, in the same time, whether or not the account exists: an invited
// person gets a new activation link, an active one a reset link, anyone
// else nothing.
func (a *Account) requestLink(mode string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := r.Context()
		if err := ParseForm(w, r); err != nil {
			a.Renderer.WriteError(w, r, formError(err))
			return
		}
		id := strings.TrimSpace(r.PostForm.Get("identifier"))
		if id == "" || len(id) > 320 {
			a.Renderer.Render(w, r, http.StatusUnprocessableEntity, "request_link",
				requestPage(mode, requestView{Error: i18n.T(Lang(r), i18n.ErrorRequired)}))
			return
		}
		if ok, wait := a.KeyLimit.Allow("account:" + store.FoldEmail(id)); !ok {
			a.Renderer.WriteError(w, r, &Error{Code: ETooMany, RetryAfter: wait,
				Err: errors.New("web: rate limit per account on link requests")})
			return
		}
		if err := a.sendLink(ctx, id); err != nil {
			// Logged, never shown: the answer must not depend on the account.
			a.logger().ErrorContext(ctx, "web: link request failed", "err", err)
		}
		floor := a.LinkRequestTime
		if floor <= 0 {
			floor = DefaultLinkRequestTime
		}
		if d := floor - time.Since(start); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		a.Renderer.Render(w, r, http.StatusOK, "link_sent", &Page{Title: i18n.SentTitle, Data: requestView{Mode: mode}})
	}
}

// sendLink issues a new link for the account named by id (an email or a
// username), if there is one that may have a link.
func (a *Account) sendLink(ctx context.Context, id string) error {
	return a.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var p store.Person
		var err error
		if strings.Contains(id, "@") {
			p, err = tx.GetPersonByEmail(ctx, store.FoldEmail(id))
		} else {
			p, err = tx.GetPersonByUsername(ctx, strings.ToLower(id))
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("web: look up account: %w", err)
		}
		purpose := store.PurposeReset
		switch p.State {
		case store.StateInvited:
			purpose = store.PurposeActivate
		case store.StateActive:
		default:
			return nil
		}
		ms, err := tx.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID})
		if err != nil {
			return fmt.Errorf("web: list memberships: %w", err)
		}
		structureID := ""
		if len(ms) > 0 {
			structureID = ms[0].StructureID
		}
		if _, err := a.Tokens.Issue(ctx, tx, p.ID, structureID, purpose); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{Time: a.now(), Actor: "anonymous",
			Action: "person.link." + string(purpose), Target: "person:" + p.ID})
	})
}
