package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/jobs"
	"sesame/internal/mfa"
	"sesame/internal/password"
	"sesame/internal/store"
)

// Portal is every person's page at /: signed in, their services as big
// links, their structures' contacts, a password change (the current
// password required; their other sessions end), their language, and
// signing out here or everywhere; signed out, a way to sign in and the
// help of the home page. Mount it, and give its Home to Account.Home.
type Portal struct {
	Store    store.Store
	Renderer *Renderer
	Sessions SignedIn
	Hasher   *password.Hasher
	Policy   password.Policy
	// PublicURL is sesame's public address (CSRF's trusted origin, Secure
	// cookies).
	PublicURL string
	Now       func() time.Time
	Logger    *slog.Logger
	IPLimit   Limiter
	ClientIP  func(*http.Request) string
	// PasswordLimit, when set, is the login limiter (idp.Config's
	// LoginLimiter): a wrong current password on the password form spends
	// the account's bucket (AccountLimitKey) as a wrong login does, and an
	// empty bucket refuses the form, so that a session left open (a shared
	// computer) does not buy more guesses of the password than the login
	// page gives.
	PasswordLimit Limiter
	// MFA seals the TOTP secrets people enrol from the portal; nil hides
	// the second-factor section. AdminMFAPolicy is the hoster admins'
	// policy (see mfa.PolicyOf).
	MFA            *mfa.Secrets
	AdminMFAPolicy store.MFAPolicy
	// Passkeys, when set, lets people add passkeys (nil when public_url's
	// host is an IP address, which browsers refuse).
	Passkeys *mfa.Passkeys
	// Location is where dates are written; default Europe/Paris.
	Location *time.Location
	// RecentAuth is how recently a person must have proved who they are
	// (signed in, or again) to change their second factors; zero means
	// DefaultRecentAuth.
	RecentAuth time.Duration
}

func (p *Portal) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

func (p *Portal) https() bool { return strings.HasPrefix(p.PublicURL, "https://") }

// Home serves GET /.
func (p *Portal) Home() http.Handler {
	return SecurityHeaders(p.https(), Recover(p.Renderer, http.HandlerFunc(p.home)))
}

// Mount registers the portal's forms: POST /account/password,
// /account/language, /account/signout and /account/signout-everywhere.
// GET / is Home, which Account mounts.
func (p *Portal) Mount(mux *http.ServeMux) {
	if p.Store == nil || p.Renderer == nil || p.Sessions == nil || p.Hasher == nil {
		panic("web: Portal needs Store, Renderer, Sessions and Hasher")
	}
	if p.IPLimit == nil {
		p.IPLimit = DefaultIPLimit(p.Now)
	}
	if p.Location == nil {
		loc, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			panic(err) // time/tzdata is linked in (internal/i18n)
		}
		p.Location = loc
	}
	form := func(h http.HandlerFunc) http.Handler {
		protected, err := CSRF(p.Renderer, p.PublicURL, LimitByIP(p.Renderer, p.IPLimit, p.ClientIP, p.signedIn(h)))
		if err != nil {
			panic(err)
		}
		return SecurityHeaders(p.https(), Recover(p.Renderer, protected))
	}
	mux.Handle("POST /account/password", form(p.changePassword))
	mux.Handle("POST /account/language", form(p.setLanguage))
	mux.Handle("POST /account/signout", form(p.signOut))
	mux.Handle("POST /account/signout-everywhere", form(p.signOutEverywhere))
	if p.MFA != nil {
		mux.Handle("GET /account/second-factor", SecurityHeaders(p.https(), Recover(p.Renderer, p.signedIn(p.showEnrol))))
		mux.Handle("POST /account/second-factor", form(p.enrol))
		mux.Handle("POST /account/second-factor/remove", form(p.removeFactor))
		mux.Handle("POST /account/second-factor/codes", form(p.renewCodes))
		if p.Passkeys != nil {
			mux.Handle("GET /account/passkey", SecurityHeaders(p.https(), Recover(p.Renderer, p.signedIn(p.showPasskey))))
			mux.Handle("POST /account/passkey", form(p.addPasskey))
		}
	}
}

// signedIn runs h with the actor in the context when Authorize lets them
// act on their own account; nobody is sent to sign in.
func (p *Portal) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, err := CurrentActor(r.Context(), p.Store, p.Sessions, r)
		if err != nil {
			p.Renderer.WriteError(w, r, err)
			return
		}
		if err := Authorize(actor, ActOwnAccount, Target{PersonID: actor.Person.ID}); err != nil {
			if errors.Is(err, ErrSignInRequired) {
				http.Redirect(w, r, SignInURL(p.Sessions.SignInPath(), "/"), http.StatusSeeOther)
				return
			}
			p.Renderer.WriteError(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxActor, actor)))
	}
}

// portalView is the data of portal.html.
type portalView struct {
	SignedIn  bool
	SignIn    string // the sign-in address
	Person    store.Person
	Name      string
	Services  []serviceView
	Contacts  []contactView
	Manages   bool // a link to /admin
	MinLength int
	Language  string
	Done      i18n.Key
	Errors    map[string]string
	MFA       *mfaView // nil when the portal does not offer it
}

// contactView is one of the person's structures and its contact.
type contactView struct {
	Structure string
	Contact   string
}

func (p *Portal) view(r *http.Request, actor Actor) (portalView, error) {
	ctx := r.Context()
	v := portalView{SignIn: SignInURL(p.Sessions.SignInPath(), "/"), Done: doneMessage(r)}
	if actor.Anonymous() {
		return v, nil
	}
	person := actor.Person
	v.SignedIn, v.Person, v.Name, v.Manages = true, person, displayName(person), actor.Manages()
	v.Language = person.Language
	v.MinLength = p.Policy.MinLength
	if v.MinLength <= 0 {
		v.MinLength = password.DefaultMinLength
	}
	ms, err := p.Store.ListMemberships(ctx, store.MembershipFilter{PersonID: person.ID})
	if err != nil {
		return v, fmt.Errorf("web: list memberships: %w", err)
	}
	member := map[string]bool{}
	for _, m := range ms {
		member[m.StructureID] = true
		s, err := p.Store.GetStructure(ctx, m.StructureID)
		if err != nil {
			return v, fmt.Errorf("web: get structure: %w", err)
		}
		c := ""
		if mailboxLike(s.Contact) {
			c = s.Contact
		}
		v.Contacts = append(v.Contacts, contactView{Structure: s.Name, Contact: c})
	}
	gs, err := p.Store.ListGrants(ctx, store.GrantFilter{PersonID: person.ID})
	if err != nil {
		return v, fmt.Errorf("web: list grants: %w", err)
	}
	for _, g := range gs {
		s, err := p.Store.GetService(ctx, g.ServiceID)
		if err != nil {
			return v, fmt.Errorf("web: get service: %w", err)
		}
		if !member[s.StructureID] || !httpURL(s.BaseURL) {
			continue
		}
		v.Services = append(v.Services, serviceView{Name: s.Name, URL: s.BaseURL, Role: g.Role})
	}
	slices.SortFunc(v.Services, func(a, b serviceView) int { return strings.Compare(a.Name, b.Name) })
	if v.MFA, err = p.mfaView(ctx, person, Lang(r)); err != nil {
		return v, err
	}
	return v, nil
}

// httpURL reports whether s is an http(s) address, safe as a link.
func httpURL(s string) bool {
	_, ok := Origin(s)
	return ok
}

// mailboxLike reports whether s can be the address of a mailto link.
func mailboxLike(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n<>\"'?&#%/\\:")
}

func (p *Portal) home(w http.ResponseWriter, r *http.Request) {
	actor, err := CurrentActor(r.Context(), p.Store, p.Sessions, r)
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	v, err := p.view(r, actor)
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, v)
}

func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, v portalView) {
	title := i18n.HomeTitle
	structure := ""
	if v.SignedIn {
		title = i18n.PortalTitle
		if len(v.Contacts) == 1 {
			structure = v.Contacts[0].Structure
		}
	}
	p.Renderer.Render(w, r, status, "portal", &Page{Title: title, Structure: structure, Here: "/", Data: v})
}

func (p *Portal) changePassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	actor := ActorFrom(ctx)
	if err := ParseForm(w, r); err != nil {
		p.Renderer.WriteError(w, r, formError(err))
		return
	}
	lang := Lang(r)
	current, plain, confirm := r.PostForm.Get("current"), r.PostForm.Get("password"), r.PostForm.Get("confirm")
	v, err := p.view(r, actor)
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	v.Done = i18n.Key{}
	v.Errors = map[string]string{}
	limitKey := AccountLimitKey(actor.Person.ID)
	if p.PasswordLimit != nil {
		if ok, wait := p.PasswordLimit.Check(limitKey); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			v.Errors["current"] = i18n.T(lang, i18n.LoginTooMany)
			p.render(w, r, http.StatusTooManyRequests, v)
			return
		}
	}
	ok, err := p.Hasher.Verify(ctx, actor.Person.PasswordHash, current)
	if errors.Is(err, password.ErrBusy) {
		p.Renderer.WriteError(w, r, &Error{Code: EUnavailable, Err: err, RetryAfter: 2 * time.Second})
		return
	}
	if err == nil && !ok && p.PasswordLimit != nil {
		p.PasswordLimit.Allow(limitKey)
	}
	switch {
	case current == "" || err != nil || !ok:
		v.Errors["current"] = i18n.T(lang, i18n.PortalWrongPassword)
	case plain == "":
		v.Errors["password"] = i18n.T(lang, i18n.ErrorRequired)
	case plain != confirm:
		v.Errors["confirm"] = i18n.T(lang, i18n.ErrorMismatch)
	default:
		pe := actor.Person
		inputs := []string{pe.GivenName, pe.FamilyName, pe.DisplayName, pe.Email, pe.Username}
		for _, c := range v.Contacts {
			inputs = append(inputs, c.Structure)
		}
		if prob := p.Policy.Check(plain, inputs...); prob != nil {
			v.Errors["password"] = prob.Message(lang)
		}
	}
	if len(v.Errors) > 0 {
		p.render(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	hash, err := p.Hasher.Hash(ctx, plain)
	if err != nil {
		p.Renderer.WriteError(w, r, &Error{Code: ErrorCode(err), Err: fmt.Errorf("web: hash password: %w", err), RetryAfter: 5 * time.Second})
		return
	}
	id := actor.Person.ID
	err = p.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.UpdatePerson(ctx, id, func(x *store.Person) error {
			x.PasswordHash, x.PasswordChangedAt = hash, p.now()
			return nil
		}); err != nil {
			return fmt.Errorf("web: update person: %w", err)
		}
		// A reset link asked for earlier (perhaps by someone else) stops
		// working with the new password.
		if _, err := tx.RevokeTokens(ctx, id); err != nil {
			return fmt.Errorf("web: revoke links: %w", err)
		}
		ref, _ := json.Marshal(jobs.PersonRef{PersonID: id})
		if _, err := tx.EnqueueJob(ctx, &store.Job{Kind: jobs.KindLDAPPerson, DedupeKey: jobs.DedupeLDAPPerson(id), Payload: ref}); err != nil {
			return fmt.Errorf("web: enqueue %s: %w", jobs.KindLDAPPerson, err)
		}
		if _, err := tx.EnqueueJob(ctx, &store.Job{Kind: jobs.KindMailPasswordChanged, Payload: ref}); err != nil {
			return fmt.Errorf("web: enqueue %s: %w", jobs.KindMailPasswordChanged, err)
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{Actor: "person:" + id, Action: "person.password.change", Target: "person:" + id})
	})
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	if err := p.Sessions.EndOtherSessions(ctx, r, id); err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, "/", "password")
}

func (p *Portal) setLanguage(w http.ResponseWriter, r *http.Request) {
	if err := ParseForm(w, r); err != nil {
		p.Renderer.WriteError(w, r, formError(err))
		return
	}
	lang := r.PostForm.Get("language")
	if !i18n.Supported(lang) {
		p.Renderer.WriteError(w, r, Errorf(EInvalid, "portal: language %q", lang))
		return
	}
	id := ActorFrom(r.Context()).Person.ID
	if _, err := p.Store.UpdatePerson(r.Context(), id, func(x *store.Person) error { x.Language = lang; return nil }); err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: p.https(), HttpOnly: true, SameSite: http.SameSiteLaxMode})
	done(w, r, "/", "language")
}

func (p *Portal) signOut(w http.ResponseWriter, r *http.Request) {
	if err := p.Sessions.SignOut(w, r); err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, "/", "signedout")
}

func (p *Portal) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	if err := p.Sessions.SignOutEverywhere(w, r, ActorFrom(r.Context()).Person.ID); err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, "/", "signedout")
}
