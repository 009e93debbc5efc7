package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/manage"
	"sesame/internal/store"
)

// The administration pages' templates, checked at start-up with the
// others (added here rather than in PageNames' literal so that the areas
// of the pages stay in their own files).
func init() {
	PageNames = append(PageNames, "signin", "portal", "account_mfa", "account_passkey", "admin_structures", "admin_board", "admin_person",
		"admin_confirm", "admin_services", "admin_service_created", "admin_jobs", "admin_imports", "admin_audit")
	PageNames = append(PageNames, ImportPageNames...)
	// The spreadsheet import's pages (ImportPages) are routes of the table
	// too, decided by ActImport, served by Admin.Imports.
	for _, p := range ImportRoutes {
		method, pattern, _ := strings.Cut(p, " ")
		AdminRoutes = append(AdminRoutes, Route{method, pattern, ActImport, (*Admin).importPage})
	}
}

// SignedIn is what the administration pages and the portal need of the
// single sign-on session (idp.Provider implements it): who is there,
// where to sign in, and ending sessions.
type SignedIn interface {
	// CurrentPerson returns the active person of the request's session, or
	// store.ErrNotFound when nobody is signed in.
	CurrentPerson(r *http.Request) (store.Person, error)
	// SignInPath is the path of the sign-in page (it takes ?next=).
	SignInPath() string
	// SignOut ends the request's session and clears its cookie.
	SignOut(w http.ResponseWriter, r *http.Request) error
	// SignOutEverywhere ends every session of the person and clears this
	// browser's cookie.
	SignOutEverywhere(w http.ResponseWriter, r *http.Request, personID string) error
	// EndOtherSessions ends every session of the person but the request's.
	EndOtherSessions(ctx context.Context, r *http.Request, personID string) error
	// SessionAuth is how and when the person of the request's session
	// last proved who they are; the zero SessionAuth without a session.
	SessionAuth(r *http.Request) SessionAuth
}

// SessionAuth is how (RFC 8176 amr values: "pwd", "otp", "mfa"...) and when
// the person of a session last proved who they are.
type SessionAuth struct {
	AMR  []string
	Time time.Time
}

// SignInAgainURL is the address of the sign-in page that asks the person
// to prove who they are again, though signed in (with their second factor
// when they have one), then comes back to next.
func SignInAgainURL(signInPath, next string) string {
	return SignInURL(signInPath, next) + "&prompt=login"
}

// SignInURL is the address of the sign-in page that comes back to next (a
// path on this site) once the person is signed in.
func SignInURL(signInPath, next string) string {
	return signInPath + "?next=" + url.QueryEscape(next)
}

// Actor is who makes a request: nobody (the zero Actor), a hoster admin, a
// referent of some structures, or a member.
type Actor struct {
	Person store.Person
	// Referent holds the ids of the structures the person is a referent of.
	Referent map[string]bool
}

// Anonymous reports whether nobody is signed in.
func (a Actor) Anonymous() bool { return a.Person.ID == "" }

// Admin reports whether the actor is a hoster admin.
func (a Actor) Admin() bool { return a.Person.ID != "" && a.Person.Admin }

// Manages reports whether the actor may open /admin at all: a hoster admin
// or a referent of at least one structure.
func (a Actor) Manages() bool { return a.Admin() || len(a.Referent) > 0 }

// Label names the actor in the audit log.
func (a Actor) Label() string {
	if a.Admin() {
		return "admin:" + a.Person.Username
	}
	return "referent:" + a.Person.Username
}

// Action is what a request wants to do; Authorize decides it.
type Action string

// The actions of the administration pages. A new route names one of
// these (or a new one, with its rule in Authorize and in the matrix test's
// table).
const (
	ActListStructures  Action = "structures.list"   // the list of structures (a referent sees theirs)
	ActCreateStructure Action = "structures.create" // hoster admins only
	ActRemoveStructure Action = "structure.remove"  // hoster admins only
	ActViewStructure   Action = "structure.view"    // board, services, failed jobs, imports
	ActUpdateStructure Action = "structure.update"  // name and contact
	ActManagePeople    Action = "people.manage"     // resend every pending link
	ActViewPerson      Action = "person.view"
	// ActManagePerson edits, disables, enables, deletes a person, or sends
	// them a link. A referent may not touch a hoster admin, nor a person
	// who is also a member of another structure (the hoster may). Nobody,
	// hoster admins included, may do it on their own account: the portal
	// is where a person changes their own email, password and second
	// factors, behind its own checks (the current password, a two-factor
	// session), which the administration's forms would otherwise bypass.
	ActManagePerson  Action = "person.manage"
	ActManageService Action = "service.manage" // add a service, change its address, remove it
	ActRetryJob      Action = "job.retry"
	// ActImport uploads, previews and applies a spreadsheet of people
	// (referents: their own structures).
	ActImport Action = "structure.import"
	// ActOwnAccount is a person's own account (the portal).
	ActOwnAccount Action = "account.own"
)

// Target is what an action is about. StructureID is empty for an unknown
// structure (which then looks like another structure to a referent).
type Target struct {
	StructureID string
	PersonID    string
	// PersonAdmin and PersonShared describe the person a person action is
	// about: a hoster admin, or a member of another structure as well.
	PersonAdmin  bool
	PersonShared bool
}

// ErrSignInRequired means nobody is signed in: the answer is a redirect
// to the sign-in page.
var ErrSignInRequired = errors.New("web: sign in required")

// Authorize is the one function that decides every action of the
// administration pages and the portal: nil when actor may do action on
// target, ErrSignInRequired for nobody, an *Error with EForbidden (403:
// not a role that may) or ENotFound (404: a structure that is not the
// referent's, so that guessing ids reveals nothing).
//
// Hoster admins may do everything; a referent, only on their structures
// (and never on a hoster admin or a person shared with another structure);
// a member, only their own account; nobody, nothing.
func Authorize(actor Actor, action Action, target Target) error {
	if actor.Anonymous() {
		return ErrSignInRequired
	}
	if action == ActOwnAccount {
		if target.PersonID == actor.Person.ID {
			return nil
		}
		return Errorf(EForbidden, "authorize: %s on another person's account", action)
	}
	if action == ActManagePerson && target.PersonID != "" && target.PersonID == actor.Person.ID {
		return Errorf(EForbidden, "authorize: %s on one's own account (the portal is for that)", action)
	}
	if actor.Admin() {
		return nil
	}
	if len(actor.Referent) == 0 {
		return Errorf(EForbidden, "authorize: %s: %s is neither an admin nor a referent", action, actor.Person.Username)
	}
	switch action {
	case ActListStructures:
		return nil
	case ActCreateStructure, ActRemoveStructure:
		return Errorf(EForbidden, "authorize: %s is for hoster admins", action)
	case ActViewStructure, ActUpdateStructure, ActManagePeople, ActViewPerson, ActManagePerson,
		ActManageService, ActRetryJob, ActImport:
	default:
		return Errorf(EForbidden, "authorize: no rule for action %q", action)
	}
	if target.StructureID == "" || !actor.Referent[target.StructureID] {
		return Errorf(ENotFound, "authorize: %s: not a structure of %s", action, actor.Person.Username)
	}
	if action == ActManagePerson && (target.PersonAdmin || target.PersonShared) {
		return Errorf(EForbidden, "authorize: %s: the person is a hoster admin or shared with another structure", action)
	}
	return nil
}

// Route is one administration page or form: its method and pattern (as
// http.ServeMux reads them; {slug} names the structure, {person} a person of
// it, {service} a service of it, {job} a failed job of it), the action
// Authorize decides, and the handler, which runs only once allowed.
type Route struct {
	Method  string
	Pattern string
	Action  Action
	Handle  func(a *Admin, w http.ResponseWriter, r *http.Request)
}

// AdminRoutes are every route of the administration pages. To add one,
// add a line here (or append to it in an init function of your file) with
// its action: the authorization matrix test runs every route with every
// role, and fails for an action it has no expectation for.
var AdminRoutes = []Route{
	{"GET", "/admin", ActListStructures, (*Admin).home},
	{"GET", "/admin/structures", ActListStructures, (*Admin).structures},
	{"POST", "/admin/structures", ActCreateStructure, (*Admin).createStructure},
	{"GET", "/admin/structures/{slug}", ActViewStructure, (*Admin).board},
	{"POST", "/admin/structures/{slug}", ActUpdateStructure, (*Admin).updateStructure},
	{"GET", "/admin/structures/{slug}/remove", ActRemoveStructure, (*Admin).confirmRemoveStructure},
	{"POST", "/admin/structures/{slug}/remove", ActRemoveStructure, (*Admin).removeStructure},
	{"POST", "/admin/structures/{slug}/resend", ActManagePeople, (*Admin).resendPending},
	{"GET", "/admin/structures/{slug}/people/{person}", ActViewPerson, (*Admin).person},
	{"POST", "/admin/structures/{slug}/people/{person}", ActManagePerson, (*Admin).updatePerson},
	{"POST", "/admin/structures/{slug}/people/{person}/rights", ActManagePerson, (*Admin).setRights},
	{"POST", "/admin/structures/{slug}/people/{person}/resend", ActManagePerson, (*Admin).resendPerson},
	{"GET", "/admin/structures/{slug}/people/{person}/disable", ActManagePerson, (*Admin).confirmDisablePerson},
	{"POST", "/admin/structures/{slug}/people/{person}/disable", ActManagePerson, (*Admin).disablePerson},
	{"POST", "/admin/structures/{slug}/people/{person}/mfa-reset", ActManagePerson, (*Admin).resetMFA},
	{"POST", "/admin/structures/{slug}/people/{person}/enable", ActManagePerson, (*Admin).enablePerson},
	{"GET", "/admin/structures/{slug}/people/{person}/delete", ActManagePerson, (*Admin).confirmDeletePerson},
	{"POST", "/admin/structures/{slug}/people/{person}/delete", ActManagePerson, (*Admin).deletePerson},
	{"GET", "/admin/structures/{slug}/services", ActViewStructure, (*Admin).services},
	{"POST", "/admin/structures/{slug}/services", ActManageService, (*Admin).addService},
	{"POST", "/admin/structures/{slug}/services/{service}", ActManageService, (*Admin).changeServiceURL},
	{"GET", "/admin/structures/{slug}/services/{service}/remove", ActManageService, (*Admin).confirmRemoveService},
	{"POST", "/admin/structures/{slug}/services/{service}/remove", ActManageService, (*Admin).removeService},
	{"GET", "/admin/structures/{slug}/jobs", ActViewStructure, (*Admin).jobs},
	{"POST", "/admin/structures/{slug}/jobs/{job}/retry", ActRetryJob, (*Admin).retryJob},
	{"GET", "/admin/structures/{slug}/imports", ActViewStructure, (*Admin).imports},
	{"GET", "/admin/structures/{slug}/audit", ActViewStructure, (*Admin).audit},
}

// Admin serves the administration pages (AdminRoutes) for hoster admins
// and structure referents.
type Admin struct {
	Store    store.Store
	Manager  *manage.Manager
	Renderer *Renderer
	Sessions SignedIn
	// PublicURL is sesame's public address (CSRF's trusted origin, Secure
	// cookies and HSTS over https).
	PublicURL string
	Now       func() time.Time
	Logger    *slog.Logger
	// IPLimit limits every form post per client IP; nil means
	// DefaultAdminIPLimit.
	IPLimit  Limiter
	ClientIP func(*http.Request) string
	// Imports serves the spreadsheet import (the ImportRoutes of the
	// table) behind the same guard; Mount fills its Authorize (ActImport),
	// Uploader (the signed-in person), StructurePages and PublicURL when
	// they are not set. Nil: those routes answer 404.
	Imports *ImportPages
	// LookupHost resolves the host of a service address a referent gives
	// (see internalAddress); nil means the system's resolver.
	LookupHost func(ctx context.Context, host string) ([]string, error)

	importMux *http.ServeMux
	// actions are AdminRoutes' actions by "METHOD pattern" (routeAction).
	actions map[string]Action
}

// internalAddress reports whether a service address a referent gives must
// be refused because sesame would call this machine or a private network:
// its host is such an address (manage.InternalAddress), or a name that
// resolves to one now (a name made for it, such as 127.0.0.1.nip.io). A
// name that does not resolve (yet), or a resolver that fails or takes
// more than two seconds, does not refuse: the address is checked as
// written. A name that changes what it resolves to later (DNS rebinding)
// is caught when sesame connects: the service is marked as having a
// referent's address (store.Service.ReferentAddress), and its connections
// go through internal/netguard.
func (a *Admin) internalAddress(ctx context.Context, raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return true
	}
	if manage.InternalHost(u.Hostname()) {
		return true
	}
	lookup := a.LookupHost
	if lookup == nil {
		lookup = net.DefaultResolver.LookupHost
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := lookup(ctx, u.Hostname())
	if err != nil {
		return false
	}
	return slices.ContainsFunc(addrs, manage.InternalHost)
}

// DefaultAdminIPLimit allows 120 administration form posts at once per
// client IP, then two a second: a referent resending links row by row is
// signed in, and must not be held back like an anonymous form.
func DefaultAdminIPLimit(now func() time.Time) *RateLimiter {
	return NewRateLimiter(AdminFormLimitRate.Burst, AdminFormLimitRate.Per, now)
}

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func (a *Admin) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

func (a *Admin) https() bool { return strings.HasPrefix(a.PublicURL, "https://") }

// Mount registers every route of AdminRoutes on mux, each behind the
// security headers, panic recovery and the guard (actor, target,
// Authorize); every POST also behind the CSRF check and the per-IP rate
// limit. It panics when the wiring is wrong.
func (a *Admin) Mount(mux *http.ServeMux) {
	if a.Store == nil || a.Renderer == nil || a.Sessions == nil || a.Manager == nil {
		panic("web: Admin needs Store, Manager, Renderer and Sessions")
	}
	if a.IPLimit == nil {
		a.IPLimit = DefaultAdminIPLimit(a.Now)
	}
	if ip := a.Imports; ip != nil {
		if ip.Authorize == nil {
			ip.Authorize = func(r *http.Request, structureID string) error {
				actor, err := CurrentActor(r.Context(), a.Store, a.Sessions, r)
				if err != nil {
					return err
				}
				err = Authorize(actor, ActImport, Target{StructureID: structureID})
				if errors.Is(err, ErrSignInRequired) {
					return &Error{Code: EForbidden, Err: err}
				}
				return err
			}
		}
		if ip.Uploader == nil {
			ip.Uploader = func(r *http.Request) (Uploader, error) {
				actor, err := CurrentActor(r.Context(), a.Store, a.Sessions, r)
				if err != nil || actor.Anonymous() {
					return Uploader{}, Errorf(EForbidden, "import: nobody signed in (%v)", err)
				}
				return Uploader{Session: actor.Person.ID, Actor: actor.Label(), Hoster: actor.Admin(), Person: actor.Person.ID}, nil
			}
		}
		if ip.StructurePages == nil {
			ip.StructurePages = func(slug string) string { return "/admin/structures/" + url.PathEscape(slug) }
		}
		if ip.PublicURL == "" {
			ip.PublicURL = a.PublicURL
		}
		a.importMux = http.NewServeMux()
		ip.Mount(a.importMux)
	}
	a.actions = make(map[string]Action, len(AdminRoutes))
	for _, rt := range AdminRoutes {
		a.actions[rt.Method+" "+rt.Pattern] = rt.Action
		var h http.Handler = a.guard(rt)
		if rt.Method == http.MethodPost {
			protected, err := CSRF(a.Renderer, a.PublicURL, LimitByIP(a.Renderer, a.IPLimit, a.ClientIP, h))
			if err != nil {
				panic(err)
			}
			h = protected
		}
		mux.Handle(rt.Method+" "+rt.Pattern, SecurityHeaders(a.https(), Recover(a.Renderer, h)))
	}
}

// importPage hands an import route, once the guard allowed it, to
// Imports (which asks Authorize again for itself).
func (a *Admin) importPage(w http.ResponseWriter, r *http.Request) {
	if a.importMux == nil {
		a.Renderer.WriteError(w, r, Errorf(ENotFound, "admin: imports are not configured"))
		return
	}
	a.importMux.ServeHTTP(w, r)
}

type ctxKey int

const (
	ctxActor ctxKey = iota
	ctxStructure
	ctxPerson
	ctxTarget
)

// ActorFrom returns the actor of a request the guard let through (the
// zero Actor elsewhere).
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(ctxActor).(Actor)
	return a
}

// StructureFrom returns the structure named by the route's {slug}, once
// the guard found it and the actor may see it.
func StructureFrom(ctx context.Context) store.Structure {
	s, _ := ctx.Value(ctxStructure).(store.Structure)
	return s
}

// PersonFrom returns the person named by the route's {person}, a member of
// StructureFrom's structure.
func PersonFrom(ctx context.Context) store.Person {
	p, _ := ctx.Value(ctxPerson).(store.Person)
	return p
}

// targetFrom returns the target the guard decided the request on (with
// the route's person, if any).
func targetFrom(ctx context.Context) Target {
	t, _ := ctx.Value(ctxTarget).(Target)
	return t
}

// CurrentActor returns who makes r: the session's person with their
// referent memberships, or the zero Actor.
func CurrentActor(ctx context.Context, st store.Store, s SignedIn, r *http.Request) (Actor, error) {
	p, err := s.CurrentPerson(r)
	if errors.Is(err, store.ErrNotFound) {
		return Actor{}, nil
	}
	if err != nil {
		return Actor{}, fmt.Errorf("web: current person: %w", err)
	}
	ms, err := st.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID})
	if err != nil {
		return Actor{}, fmt.Errorf("web: memberships: %w", err)
	}
	act := Actor{Person: p}
	for _, m := range ms {
		if m.Referent {
			if act.Referent == nil {
				act.Referent = map[string]bool{}
			}
			act.Referent[m.StructureID] = true
		}
	}
	return act, nil
}

// deny answers an authorization refusal: a redirect to the sign-in page
// for nobody, else the error page.
func (a *Admin) deny(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrSignInRequired) {
		// Back to the page after signing in; a form's address answers
		// only POST, so a form goes back to the administration's home.
		next := "/admin"
		if r.Method == http.MethodGet {
			next = r.URL.Path
			if r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
		}
		http.Redirect(w, r, SignInURL(a.Sessions.SignInPath(), next), http.StatusSeeOther)
		return
	}
	a.Renderer.WriteError(w, r, err)
}

// denyPerson answers a refused action on a person the actor may see but
// not change: the page says why and who can (as the person's page does),
// with a way back to that page.
func (a *Admin) denyPerson(w http.ResponseWriter, r *http.Request, err error, actor Actor, target Target, st store.Structure, p store.Person) {
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Code != EForbidden {
		a.deny(w, r, err)
		return
	}
	why := i18n.AdminHosterOnlyShared
	switch {
	case target.PersonID == actor.Person.ID:
		why = i18n.AdminSelf
	case target.PersonAdmin:
		why = i18n.AdminHosterOnlyAdmin
	}
	e.Message = i18n.M(why)
	a.Renderer.WriteErrorWith(w, r, e, Onward{Service: displayName(p), Structure: st.Name,
		Back: "/admin/structures/" + url.PathEscape(st.Slug) + "/people/" + url.PathEscape(p.ID)})
}

// guard finds the actor and the route's target, asks Authorize, and runs
// the route's handler only when allowed. A person, service or job that
// is not the structure's is not found, whoever asks.
func (a *Admin) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		actor, err := CurrentActor(ctx, a.Store, a.Sessions, r)
		if err != nil {
			a.Renderer.WriteError(w, r, err)
			return
		}
		var target Target
		var st store.Structure
		slug := r.PathValue("slug")
		if slug != "" && !actor.Anonymous() {
			st, err = a.Store.GetStructureBySlug(ctx, slug)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				a.Renderer.WriteError(w, r, err)
				return
			}
			target.StructureID = st.ID
		}
		if err := Authorize(actor, rt.Action, target); err != nil {
			a.deny(w, r, err)
			return
		}
		if slug != "" && st.ID == "" {
			a.Renderer.WriteError(w, r, Errorf(ENotFound, "admin: no structure %q", slug))
			return
		}
		ctx = context.WithValue(ctx, ctxActor, actor)
		ctx = context.WithValue(ctx, ctxStructure, st)
		ip := ClientIP
		if a.ClientIP != nil {
			ip = a.ClientIP
		}
		ctx = manage.WithIP(ctx, ip(r))
		ctx = manage.WithStructure(ctx, st.ID)
		if id := r.PathValue("person"); id != "" {
			p, shared, err := a.member(ctx, st.ID, id)
			if err != nil {
				a.Renderer.WriteError(w, r, err)
				return
			}
			target = personTarget(st.ID, p, shared)
			if err := Authorize(actor, rt.Action, target); err != nil {
				a.denyPerson(w, r, err, actor, target, st, p)
				return
			}
			ctx = context.WithValue(ctx, ctxPerson, p)
		}
		ctx = context.WithValue(ctx, ctxTarget, target)
		rt.Handle(a, w, r.WithContext(ctx))
	})
}

// personTarget is the Target of an action on person p of structure
// structureID, shared when p is a member of another structure too: the
// guard and the pages that offer a person's actions (the board) ask
// Authorize about the same Target.
func personTarget(structureID string, p store.Person, shared bool) Target {
	return Target{StructureID: structureID, PersonID: p.ID, PersonAdmin: p.Admin, PersonShared: shared}
}

// routeAction is the action AdminRoutes gives the route method+pattern
// (read by Mount), so that a page offering a form asks Authorize what the
// form's guard will. It panics for a route that is not in the table (a
// programming error, caught by the tests that render the page).
func (a *Admin) routeAction(method, pattern string) Action {
	act, ok := a.actions[method+" "+pattern]
	if !ok {
		panic("web: no route " + method + " " + pattern)
	}
	return act
}

// member returns the person id when they are a member of the structure
// (else ENotFound), and whether they are a member of another one too.
func (a *Admin) member(ctx context.Context, structureID, personID string) (store.Person, bool, error) {
	ms, err := a.Store.ListMemberships(ctx, store.MembershipFilter{PersonID: personID})
	if err != nil {
		return store.Person{}, false, fmt.Errorf("web: memberships: %w", err)
	}
	in := false
	for _, m := range ms {
		in = in || m.StructureID == structureID
	}
	if !in {
		return store.Person{}, false, Errorf(ENotFound, "admin: %q is not a member of structure %q", personID, structureID)
	}
	p, err := a.Store.GetPerson(ctx, personID)
	if err != nil {
		return store.Person{}, false, fmt.Errorf("web: get person: %w", err)
	}
	return p, len(ms) > 1, nil
}

// done redirects (303) to path after a form, with a message code the page
// shows (one of doneMessages).
func done(w http.ResponseWriter, r *http.Request, path, code string) {
	if code != "" {
		path += "?done=" + url.QueryEscape(code)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// doneMessages are the confirmations a page shows after a form, by the
// code in ?done= (anything else shows nothing).
var doneMessages = map[string]i18n.Key{
	"mfa-added":   i18n.MFAAdded,
	"mfa-removed": i18n.MFARemoved,
	"created":     i18n.AdminDoneCreated,
	"updated":     i18n.AdminDoneUpdated,
	"resent":      i18n.AdminDoneResent,
	"disabled":    i18n.AdminDoneDisabled,
	"mfa-reset":   i18n.MFAReset,
	"enabled":     i18n.AdminDoneEnabled,
	"deleted":     i18n.AdminDoneDeleted,
	"removed":     i18n.AdminDoneRemoved,
	"retried":     i18n.AdminDoneRetried,
	"rights":      i18n.AdminDoneRights,
	"password":    i18n.PortalDonePassword,
	"language":    i18n.PortalDoneLanguage,
	"signedout":   i18n.PortalDoneSignedOut,
}

func doneMessage(r *http.Request) i18n.Key {
	return doneMessages[r.URL.Query().Get("done")]
}
