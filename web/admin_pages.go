package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/internal/apps"
	"sesame/internal/auditlog"
	"sesame/internal/i18n"
	"sesame/internal/jobs"
	"sesame/internal/manage"
	"sesame/internal/store"
	"sesame/onboarding"
)

// adminNav is the structure's tabs, shown on every page about it.
type adminNav struct {
	Structure store.Structure
	Current   string // "board", "services", "jobs", "imports"
	Admin     bool   // the actor is a hoster admin
}

func (a *Admin) render(w http.ResponseWriter, r *http.Request, status int, name string, title i18n.Key, args []any, data any) {
	st := StructureFrom(r.Context())
	a.Renderer.Render(w, r, status, name, &Page{Title: title, TitleArgs: args, Structure: st.Name, Data: data})
}

func (a *Admin) base(r *http.Request) string {
	return "/admin/structures/" + StructureFrom(r.Context()).Slug
}

func (a *Admin) nav(r *http.Request, current string) adminNav {
	return adminNav{Structure: StructureFrom(r.Context()), Current: current, Admin: ActorFrom(r.Context()).Admin()}
}

func (a *Admin) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/admin/structures", http.StatusSeeOther)
}

// structuresView is the data of admin_structures.html.
type structuresView struct {
	Structures []store.Structure
	Admin      bool
	Done       i18n.Key
	Errors     map[string]string
	Form       map[string]string
}

func (a *Admin) listVisible(r *http.Request) ([]store.Structure, error) {
	actor := ActorFrom(r.Context())
	all, err := a.Store.ListStructures(r.Context())
	if err != nil {
		return nil, fmt.Errorf("web: list structures: %w", err)
	}
	if actor.Admin() {
		return all, nil
	}
	var mine []store.Structure
	for _, s := range all {
		if actor.Referent[s.ID] {
			mine = append(mine, s)
		}
	}
	return mine, nil
}

func (a *Admin) structures(w http.ResponseWriter, r *http.Request) {
	list, err := a.listVisible(r)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	a.Renderer.Render(w, r, http.StatusOK, "admin_structures", &Page{Title: i18n.AdminStructuresTitle,
		Data: structuresView{Structures: list, Admin: ActorFrom(r.Context()).Admin(), Done: doneMessage(r)}})
}

func (a *Admin) createStructure(w http.ResponseWriter, r *http.Request) {
	if err := ParseForm(w, r); err != nil {
		a.Renderer.WriteError(w, r, formError(err))
		return
	}
	lang := Lang(r)
	slug, name, contact := strings.TrimSpace(r.PostForm.Get("slug")), r.PostForm.Get("name"), r.PostForm.Get("contact")
	_, err := a.Manager.CreateStructure(r.Context(), ActorFrom(r.Context()).Label(), slug, name, contact)
	if err == nil {
		done(w, r, "/admin/structures/"+slug, "created")
		return
	}
	errs := map[string]string{}
	switch {
	case errors.Is(err, store.ErrConflict):
		errs["slug"] = i18n.T(lang, i18n.AdminSlugTaken)
	case errors.Is(err, manage.ErrBadEmail):
		errs["contact"] = i18n.T(lang, i18n.AdminBadEmail)
	case errors.Is(err, store.ErrInvalid):
		errs["slug"] = i18n.T(lang, i18n.AdminBadSlug)
	default:
		a.Renderer.WriteError(w, r, err)
		return
	}
	list, lerr := a.listVisible(r)
	if lerr != nil {
		a.Renderer.WriteError(w, r, lerr)
		return
	}
	a.Renderer.Render(w, r, http.StatusUnprocessableEntity, "admin_structures", &Page{Title: i18n.AdminStructuresTitle,
		Data: structuresView{Structures: list, Admin: true, Errors: errs,
			Form: map[string]string{"slug": slug, "name": name, "contact": contact}}})
}

// The states the board shows; "expired" is an invited person whose last
// activation link has expired.
const stateExpired = "expired"

// stateKeys name the board's states.
var stateKeys = map[string]i18n.Key{
	"invited": i18n.AdminStateInvited, stateExpired: i18n.AdminStateExpired,
	"active": i18n.AdminStateActive, "disabled": i18n.AdminStateDisabled,
}

// provKeys name the provisioning statuses.
var provKeys = map[string]i18n.Key{
	"pending": i18n.AdminProvPending, "done": i18n.AdminProvDone,
	"failed": i18n.AdminProvFailed, "manual": i18n.AdminProvManual,
}

// stateOption is one choice of the board's state filter.
type stateOption struct {
	Value string
	Key   i18n.Key
}

// boardRow is one person on the board.
type boardRow struct {
	Person   store.Person
	Name     string
	State    string // invited, expired, active, disabled
	StateKey i18n.Key
	LastMail time.Time
	Grants   []grantView
	// CanResend is whether the board offers to send the person a new
	// link: invited (or expired) and Authorize allows the viewer the
	// resend route's action on them, as the route's guard will ask.
	CanResend bool
}

// grantView is one right of a person, with the state of their account in
// the application.
type grantView struct {
	Service string
	// Role is the role named in the page's language (roleLabel).
	Role      string
	Provision string // pending, done, failed, manual, or "" when not provisioned
	ProvKey   i18n.Key
	Message   string
}

// boardView is the data of admin_board.html.
type boardView struct {
	Nav     adminNav
	Rows    []boardRow
	Total   int
	Pending int // invited or expired
	// Resendable are the pending people the viewer may send a new link
	// (the "send again to all" button's count).
	Resendable int
	State      string
	Query      string
	States     []stateOption
	Done       i18n.Key
}

// mailInfo is what the mail jobs tell of one person: when the last email
// was sent, and when the last activation link was issued.
type mailInfo struct {
	lastSent   time.Time
	linkExpiry time.Time // when the newest activation link expires
}

// mailInfo reads, in two indexed queries, when each member of st was last
// emailed and when their newest activation link expires.
func (a *Admin) mailInfo(r *http.Request, st store.Structure) (map[string]mailInfo, error) {
	sent, err := a.Store.LastMailsSent(r.Context(), st.ID)
	if err != nil {
		return nil, fmt.Errorf("web: last emails: %w", err)
	}
	acts, err := a.Store.LatestActivations(r.Context(), st.ID)
	if err != nil {
		return nil, fmt.Errorf("web: activations: %w", err)
	}
	out := make(map[string]mailInfo, max(len(sent), len(acts)))
	for id, at := range sent {
		mi := out[id]
		mi.lastSent = at
		out[id] = mi
	}
	for id, act := range acts {
		mi := out[id]
		mi.linkExpiry = act.ExpiresAt
		out[id] = mi
	}
	return out, nil
}

func (a *Admin) board(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := StructureFrom(ctx)
	q := r.URL.Query()
	state := q.Get("state")
	if !slices.Contains([]string{"invited", stateExpired, "active", "disabled"}, state) {
		state = ""
	}
	query := strings.TrimSpace(q.Get("q"))
	if len(query) > 200 {
		query = query[:200]
	}
	people, err := a.Store.ListPeople(ctx, store.PeopleFilter{StructureID: st.ID})
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	services, err := a.Store.ListServices(ctx, st.ID)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	svcs := map[string]store.Service{}
	for _, s := range services {
		svcs[s.ID] = s
	}
	lang := Lang(r)
	grants, err := a.Store.ListGrants(ctx, store.GrantFilter{StructureID: st.ID})
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	provs, err := a.Store.ListProvisions(ctx, store.ProvisionFilter{StructureID: st.ID})
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	prov := map[string]store.Provision{}
	for _, p := range provs {
		prov[p.PersonID+"/"+p.ServiceID] = p
	}
	grantsOf := map[string][]grantView{}
	for _, g := range grants {
		p := prov[g.PersonID+"/"+g.ServiceID]
		grantsOf[g.PersonID] = append(grantsOf[g.PersonID], grantView{Service: svcs[g.ServiceID].Name, Role: roleLabel(lang, svcs[g.ServiceID], g.Role),
			Provision: string(p.Status), ProvKey: provKeys[string(p.Status)], Message: p.Message})
	}
	mails, err := a.mailInfo(r, st)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	manageable, err := a.manageable(r, st, people, a.routeAction(http.MethodPost, "/admin/structures/{slug}/people/{person}/resend"))
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	v := boardView{Nav: a.nav(r, "board"), State: state, Query: query, Done: doneMessage(r),
		States: []stateOption{{"invited", i18n.AdminStateInvited}, {stateExpired, i18n.AdminStateExpired},
			{"active", i18n.AdminStateActive}, {"disabled", i18n.AdminStateDisabled}}}
	lq := strings.ToLower(query)
	for _, p := range people {
		row := boardRow{Person: p, Name: displayName(p), State: string(p.State), LastMail: mails[p.ID].lastSent,
			Grants: grantsOf[p.ID]}
		if p.State == store.StateInvited {
			v.Pending++
			if exp := mails[p.ID].linkExpiry; !exp.IsZero() && !a.now().Before(exp) {
				row.State = stateExpired
			}
		}
		row.StateKey = stateKeys[row.State]
		row.CanResend = p.State == store.StateInvited && manageable[p.ID]
		if row.CanResend {
			v.Resendable++
		}
		v.Total++
		if state != "" && row.State != state {
			continue
		}
		if lq != "" && !strings.Contains(strings.ToLower(p.Username+" "+p.Email+" "+row.Name+" "+p.GivenName+" "+p.FamilyName), lq) {
			continue
		}
		v.Rows = append(v.Rows, row)
	}
	a.render(w, r, http.StatusOK, "admin_board", i18n.AdminBoardTitle, []any{st.Name}, v)
}

// manageable returns the invited people of st on whom Authorize allows
// the viewer action (the board's per-person buttons), deciding on the
// same Target as the guard (personTarget): a referent is not offered what
// they would be refused (a hoster admin, a person shared with another
// structure).
func (a *Admin) manageable(r *http.Request, st store.Structure, people []store.Person, action Action) (map[string]bool, error) {
	ctx := r.Context()
	invited := slices.DeleteFunc(slices.Clone(people), func(p store.Person) bool { return p.State != store.StateInvited })
	shared, err := manage.SharedPeople(ctx, a.Store, invited)
	if err != nil {
		return nil, err
	}
	actor := ActorFrom(ctx)
	out := make(map[string]bool, len(invited))
	for _, p := range invited {
		out[p.ID] = Authorize(actor, action, personTarget(st.ID, p, shared[p.ID])) == nil
	}
	return out, nil
}

func (a *Admin) updateStructure(w http.ResponseWriter, r *http.Request) {
	if err := ParseForm(w, r); err != nil {
		a.Renderer.WriteError(w, r, formError(err))
		return
	}
	name, contact := r.PostForm.Get("name"), r.PostForm.Get("contact")
	c := manage.StructureChange{Contact: &contact}
	if strings.TrimSpace(name) != "" {
		c.Name = &name
	}
	// The second-factor policy is the hoster's: a referent, who is asked
	// for one by default, cannot turn it off for themselves.
	if r.PostForm.Has("mfa_policy") {
		if !ActorFrom(r.Context()).Admin() {
			a.Renderer.WriteError(w, r, Errorf(EForbidden, "web: only a hoster admin sets a structure's second-factor policy"))
			return
		}
		pol := store.MFAPolicy(r.PostForm.Get("mfa_policy"))
		c.MFAPolicy = &pol
	}
	if _, err := a.Manager.UpdateStructure(r.Context(), ActorFrom(r.Context()).Label(), StructureFrom(r.Context()).ID, c); err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, a.base(r), "updated")
}

// confirmView is the data of admin_confirm.html: a question, the form
// that confirms, and where "cancel" goes.
type confirmView struct {
	Nav      adminNav
	Question i18n.Message
	Warning  i18n.Message
	Action   string
	Submit   i18n.Key
	Cancel   string
	// Confirm, when set, is sent as the form's "confirm" field: the
	// action's handler acts only when it comes back (confirmed).
	Confirm string
}

// confirmed reports whether a person action's POST comes from its
// confirmation page (the "confirm" field names the person). Anything else
// — an old one-click form, a replayed or hand-made post — is sent to that
// page (303) and changes nothing.
func (a *Admin) confirmed(w http.ResponseWriter, r *http.Request, page string) bool {
	if err := ParseForm(w, r); err != nil {
		a.Renderer.WriteError(w, r, formError(err))
		return false
	}
	if p := PersonFrom(r.Context()); p.ID != "" && r.PostForm.Get("confirm") == p.ID {
		return true
	}
	http.Redirect(w, r, page, http.StatusSeeOther)
	return false
}

func (a *Admin) confirm(w http.ResponseWriter, r *http.Request, title i18n.Key, v confirmView) {
	a.render(w, r, http.StatusOK, "admin_confirm", title, nil, v)
}

func (a *Admin) confirmRemoveStructure(w http.ResponseWriter, r *http.Request) {
	st := StructureFrom(r.Context())
	a.confirm(w, r, i18n.AdminRemoveStructureTitle, confirmView{Nav: a.nav(r, ""),
		Question: i18n.M(i18n.AdminRemoveStructureQ, st.Name), Warning: i18n.M(i18n.AdminRemoveStructureWarn),
		Action: a.base(r) + "/remove", Submit: i18n.AdminRemoveStructureTitle, Cancel: a.base(r)})
}

func (a *Admin) removeStructure(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Manager.RemoveStructure(r.Context(), ActorFrom(r.Context()).Label(), StructureFrom(r.Context()).ID); err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, "/admin/structures", "removed")
}

// resendPending sends a new link to the invited people the viewer may send
// one to one by one (the board offers no more: manageable); a referent's
// "all" leaves out a hoster admin and a person shared with another
// structure, as their one-by-one resend would be refused.
func (a *Admin) resendPending(w http.ResponseWriter, r *http.Request) {
	actor, st := ActorFrom(r.Context()), StructureFrom(r.Context())
	act := a.routeAction(http.MethodPost, "/admin/structures/{slug}/people/{person}/resend")
	may := func(p store.Person, shared bool) bool {
		return Authorize(actor, act, personTarget(st.ID, p, shared)) == nil
	}
	if _, err := a.Manager.ResendPending(r.Context(), actor.Label(), st.ID, may); err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, a.base(r), "resent")
}

// personView is the data of admin_person.html.
type personView struct {
	Nav      adminNav
	Person   store.Person
	Name     string
	State    string
	StateKey i18n.Key
	Grants   []grantView
	// Rights are the structure's services with the roles the rights form
	// offers.
	Rights []rightRow
	// CanManage is whether the actor may change the person (Authorize's
	// ActManagePerson): else the page shows, instead of the forms,
	// HosterOnly, why and who can (a hoster admin).
	CanManage  bool
	HosterOnly i18n.Key
	// Self is whether the person is the actor (their own account is
	// changed from the portal).
	Self bool
	// Factors is how many second factors the person has (a reset removes
	// them).
	Factors int
	Base    string // the person's address
	Done    i18n.Key
	Errors  map[string]string
	Form    map[string]string
}

func (a *Admin) personView(r *http.Request) (personView, error) {
	ctx := r.Context()
	p := PersonFrom(ctx)
	st := StructureFrom(ctx)
	v := personView{Nav: a.nav(r, "board"), Person: p, Name: displayName(p), State: string(p.State), StateKey: stateKeys[string(p.State)],
		Base: a.base(r) + "/people/" + p.ID, Done: doneMessage(r),
		Form: map[string]string{"given_name": p.GivenName, "family_name": p.FamilyName, "display_name": p.DisplayName, "email": p.Email}}
	target := targetFrom(ctx)
	v.CanManage = Authorize(ActorFrom(ctx), ActManagePerson, target) == nil
	factors, err := a.Store.ListSecondFactors(ctx, p.ID)
	if err != nil {
		return v, fmt.Errorf("web: second factors: %w", err)
	}
	v.Factors = len(factors)
	if !v.CanManage {
		v.HosterOnly = i18n.AdminHosterOnlyShared
		switch {
		case target.PersonID == ActorFrom(ctx).Person.ID:
			v.HosterOnly, v.Self = i18n.AdminSelf, true
		case target.PersonAdmin:
			v.HosterOnly = i18n.AdminHosterOnlyAdmin
		}
	}
	grants, err := a.Store.ListGrants(ctx, store.GrantFilter{PersonID: p.ID, StructureID: st.ID})
	if err != nil {
		return v, fmt.Errorf("web: list grants: %w", err)
	}
	for _, g := range grants {
		svc, err := a.Store.GetService(ctx, g.ServiceID)
		if err != nil {
			return v, fmt.Errorf("web: get service: %w", err)
		}
		gv := grantView{Service: svc.Name, Role: roleLabel(Lang(r), svc, g.Role)}
		if pr, err := a.Store.GetProvision(ctx, p.ID, svc.ID); err == nil {
			gv.Provision, gv.ProvKey, gv.Message = string(pr.Status), provKeys[string(pr.Status)], pr.Message
		}
		v.Grants = append(v.Grants, gv)
	}
	if v.Rights, err = a.rightRows(r, grants); err != nil {
		return v, err
	}
	return v, nil
}

func (a *Admin) person(w http.ResponseWriter, r *http.Request) {
	v, err := a.personView(r)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "admin_person", i18n.AdminPersonTitle, []any{v.Name}, v)
}

func (a *Admin) updatePerson(w http.ResponseWriter, r *http.Request) {
	if err := ParseForm(w, r); err != nil {
		a.Renderer.WriteError(w, r, formError(err))
		return
	}
	lang := Lang(r)
	f := r.PostForm
	given, family, display, email := f.Get("given_name"), f.Get("family_name"), f.Get("display_name"), f.Get("email")
	p := PersonFrom(r.Context())
	_, err := a.Manager.UpdatePerson(r.Context(), ActorFrom(r.Context()).Label(), p.ID,
		manage.PersonChange{GivenName: &given, FamilyName: &family, DisplayName: &display, Email: &email})
	if err == nil {
		done(w, r, a.base(r)+"/people/"+p.ID, "updated")
		return
	}
	errs := map[string]string{}
	switch {
	case errors.Is(err, manage.ErrBadEmail):
		errs["email"] = i18n.T(lang, i18n.AdminBadEmail)
	case errors.Is(err, store.ErrConflict):
		errs["email"] = i18n.T(lang, i18n.AdminEmailTaken)
	default:
		a.Renderer.WriteError(w, r, err)
		return
	}
	v, verr := a.personView(r)
	if verr != nil {
		a.Renderer.WriteError(w, r, verr)
		return
	}
	v.Done, v.Errors = i18n.Key{}, errs
	v.Form = map[string]string{"given_name": given, "family_name": family, "display_name": display, "email": email}
	a.render(w, r, http.StatusUnprocessableEntity, "admin_person", i18n.AdminPersonTitle, []any{v.Name}, v)
}

func (a *Admin) personOp(w http.ResponseWriter, r *http.Request, code string, op func() error) {
	if err := op(); err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, a.base(r)+"/people/"+PersonFrom(r.Context()).ID, code)
}

func (a *Admin) resendPerson(w http.ResponseWriter, r *http.Request) {
	a.personOp(w, r, "resent", func() error {
		_, err := a.Manager.Resend(r.Context(), ActorFrom(r.Context()).Label(), PersonFrom(r.Context()).ID, StructureFrom(r.Context()).ID)
		return err
	})
}

// resetMFA removes the person's second factors (a lost phone); they are
// told by email.
func (a *Admin) resetMFA(w http.ResponseWriter, r *http.Request) {
	a.personOp(w, r, "mfa-reset", func() error {
		_, err := a.Manager.ResetMFA(r.Context(), ActorFrom(r.Context()).Label(), PersonFrom(r.Context()).ID)
		return err
	})
}

// confirmDisablePerson asks before disabling: who, and what it does. The
// guard has already asked Authorize (ActManagePerson), as for the POST.
func (a *Admin) confirmDisablePerson(w http.ResponseWriter, r *http.Request) {
	p := PersonFrom(r.Context())
	base := a.base(r) + "/people/" + p.ID
	if p.State == store.StateDisabled {
		http.Redirect(w, r, base, http.StatusSeeOther)
		return
	}
	name := displayName(p)
	a.confirm(w, r, i18n.AdminDisablePersonTitle, confirmView{Nav: a.nav(r, "board"),
		Question: i18n.M(i18n.AdminDisablePersonQ, name, p.Email), Warning: i18n.M(i18n.AdminDisablePersonWarn, name),
		Action: base + "/disable", Submit: i18n.AdminDisablePersonTitle, Cancel: a.base(r), Confirm: p.ID})
}

// disablePerson disables the person, only when the post comes from the
// confirmation page (confirmed).
func (a *Admin) disablePerson(w http.ResponseWriter, r *http.Request) {
	if !a.confirmed(w, r, a.base(r)+"/people/"+PersonFrom(r.Context()).ID+"/disable") {
		return
	}
	a.personOp(w, r, "disabled", func() error {
		_, err := a.Manager.Disable(r.Context(), ActorFrom(r.Context()).Label(), PersonFrom(r.Context()).ID)
		return err
	})
}

func (a *Admin) enablePerson(w http.ResponseWriter, r *http.Request) {
	a.personOp(w, r, "enabled", func() error {
		_, err := a.Manager.Enable(r.Context(), ActorFrom(r.Context()).Label(), PersonFrom(r.Context()).ID)
		return err
	})
}

func (a *Admin) confirmDeletePerson(w http.ResponseWriter, r *http.Request) {
	p := PersonFrom(r.Context())
	base := a.base(r) + "/people/" + p.ID
	if p.State != store.StateDisabled {
		a.Renderer.WriteError(w, r, &Error{Code: EConflict, Err: manage.ErrNotDisabled, Message: i18n.M(i18n.AdminDeleteNotDisabled)})
		return
	}
	a.confirm(w, r, i18n.AdminDeletePersonTitle, confirmView{Nav: a.nav(r, "board"),
		Question: i18n.M(i18n.AdminDeletePersonQ, displayName(p), p.Email), Warning: i18n.M(i18n.AdminDeletePersonWarn),
		Action: base + "/delete", Submit: i18n.AdminDeletePersonTitle, Cancel: base, Confirm: p.ID})
}

// deletePerson deletes the person, only when the post comes from the
// confirmation page (confirmed).
func (a *Admin) deletePerson(w http.ResponseWriter, r *http.Request) {
	if !a.confirmed(w, r, a.base(r)+"/people/"+PersonFrom(r.Context()).ID+"/delete") {
		return
	}
	_, err := a.Manager.Delete(r.Context(), ActorFrom(r.Context()).Label(), PersonFrom(r.Context()).ID)
	if errors.Is(err, manage.ErrNotDisabled) {
		a.Renderer.WriteError(w, r, &Error{Code: EConflict, Err: err, Message: i18n.M(i18n.AdminDeleteNotDisabled)})
		return
	}
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, a.base(r), "deleted")
}

// servicesView is the data of admin_services.html.
type servicesView struct {
	Nav      adminNav
	Services []store.Service
	Kinds    []kindOption
	Done     i18n.Key
	// Errors and Form are the add form's problems and values after a
	// refused post; URLError names the service whose address was refused.
	Errors   map[string]string
	Form     map[string]string
	URLError string
}

// kindOption is one kind of application offered by the add form.
type kindOption struct {
	Name  string
	Title string
}

func (a *Admin) servicesView(r *http.Request) (servicesView, error) {
	st := StructureFrom(r.Context())
	list, err := a.Store.ListServices(r.Context(), st.ID)
	if err != nil {
		return servicesView{}, err
	}
	v := servicesView{Nav: a.nav(r, "services"), Services: list, Done: doneMessage(r), Form: map[string]string{}}
	for _, k := range apps.Kinds() {
		v.Kinds = append(v.Kinds, kindOption{Name: k.Name, Title: k.Title})
	}
	return v, nil
}

func (a *Admin) services(w http.ResponseWriter, r *http.Request) {
	v, err := a.servicesView(r)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "admin_services", i18n.AdminServicesTitle, []any{StructureFrom(r.Context()).Name}, v)
}

// serviceCreatedView is the data of admin_service_created.html: the client
// secret, shown this once, and the setup to paste into the application.
type serviceCreatedView struct {
	Nav     adminNav
	Service store.Service
	Secret  string
	Setup   string
}

func (a *Admin) addService(w http.ResponseWriter, r *http.Request) {
	if err := ParseForm(w, r); err != nil {
		a.Renderer.WriteError(w, r, formError(err))
		return
	}
	f := r.PostForm
	st := StructureFrom(r.Context())
	n := manage.NewService{Kind: f.Get("kind"), Name: f.Get("name"), BaseURL: f.Get("url"),
		Categories: strings.Split(f.Get("categories"), ","), RedirectURI: f.Get("redirect")}
	var (
		svc    store.Service
		secret string
		err    error
	)
	n.ByHoster = ActorFrom(r.Context()).Admin()
	internal := !n.ByHoster && a.internalAddress(r.Context(), n.BaseURL)
	if internal {
		err = manage.ErrBadService // sesame calls it: hoster admins only
	} else {
		svc, secret, err = a.Manager.AddService(r.Context(), ActorFrom(r.Context()).Label(), st.ID, n)
	}
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) {
		v, verr := a.servicesView(r)
		if verr != nil {
			a.Renderer.WriteError(w, r, verr)
			return
		}
		v.Done = i18n.Key{}
		v.Errors = map[string]string{"add": i18n.T(Lang(r), i18n.AdminBadService)}
		if internal {
			v.Errors = map[string]string{"add": i18n.T(Lang(r), i18n.AdminInternalURL), "add-url": "1"}
		}
		v.Form = map[string]string{"kind": n.Kind, "name": n.Name, "url": n.BaseURL, "categories": f.Get("categories"),
			"redirect": n.RedirectURI}
		a.render(w, r, http.StatusUnprocessableEntity, "admin_services", i18n.AdminServicesTitle, []any{st.Name}, v)
		return
	}
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	var setup strings.Builder
	apps.Of(svc).WriteSetup(&setup, a.PublicURL, svc, secret)
	a.render(w, r, http.StatusOK, "admin_service_created", i18n.AdminServiceCreatedTitle, []any{svc.Name},
		serviceCreatedView{Nav: a.nav(r, "services"), Service: svc, Secret: secret, Setup: setup.String()})
}

func (a *Admin) changeServiceURL(w http.ResponseWriter, r *http.Request) {
	if err := ParseForm(w, r); err != nil {
		a.Renderer.WriteError(w, r, formError(err))
		return
	}
	svc, err := a.service(r)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	// One form: the address, and whether the service requires two factors
	// (a checkbox: absent means no).
	url, requireMFA := r.PostForm.Get("url"), r.PostForm.Get("require_mfa") == "1"
	// The address the hoster gave stays the referent's to keep (the form
	// posts it back with the checkbox); only a new one is checked.
	moved := strings.TrimRight(strings.TrimSpace(url), "/") != svc.BaseURL
	admin := ActorFrom(r.Context()).Admin()
	internal := !admin && moved && a.internalAddress(r.Context(), url)
	if internal {
		err = manage.ErrBadService // sesame calls it: hoster admins only
	} else {
		_, err = a.Manager.UpdateService(r.Context(), ActorFrom(r.Context()).Label(), svc.ID,
			manage.ServiceChange{URL: &url, RequireMFA: &requireMFA, ByHoster: admin})
	}
	if errors.Is(err, store.ErrInvalid) {
		v, verr := a.servicesView(r)
		if verr != nil {
			a.Renderer.WriteError(w, r, verr)
			return
		}
		v.Done, v.URLError = i18n.Key{}, svc.ID
		v.Errors = map[string]string{"url": i18n.T(Lang(r), i18n.AdminBadURL)}
		if internal {
			v.Errors["url"] = i18n.T(Lang(r), i18n.AdminInternalURL)
		}
		v.Form = map[string]string{"change-url": url} // what was typed, shown again (not in the add form)
		a.render(w, r, http.StatusUnprocessableEntity, "admin_services", i18n.AdminServicesTitle, []any{StructureFrom(r.Context()).Name}, v)
		return
	}
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, a.base(r)+"/services", "updated")
}

// service returns the route's {service}, a service of the structure (else
// ENotFound).
func (a *Admin) service(r *http.Request) (store.Service, error) {
	svc, err := a.Store.GetService(r.Context(), r.PathValue("service"))
	if err != nil {
		return svc, err
	}
	if svc.StructureID != StructureFrom(r.Context()).ID {
		return store.Service{}, Errorf(ENotFound, "admin: service %q is not the structure's", svc.ID)
	}
	return svc, nil
}

func (a *Admin) confirmRemoveService(w http.ResponseWriter, r *http.Request) {
	svc, err := a.service(r)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	a.confirm(w, r, i18n.AdminRemoveServiceTitle, confirmView{Nav: a.nav(r, "services"),
		Question: i18n.M(i18n.AdminRemoveServiceQ, svc.Name), Warning: i18n.M(i18n.AdminRemoveServiceWarn),
		Action: a.base(r) + "/services/" + svc.ID + "/remove", Submit: i18n.AdminRemoveServiceTitle,
		Cancel: a.base(r) + "/services"})
}

func (a *Admin) removeService(w http.ResponseWriter, r *http.Request) {
	svc, err := a.service(r)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	if _, err := a.Manager.RemoveService(r.Context(), ActorFrom(r.Context()).Label(), svc.ID); err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, a.base(r)+"/services", "removed")
}

// jobView is one failed job.
type jobView struct {
	Job    store.Job
	Person string // the display name of the person it is about, if any
	// Kind names what failed in the page's language (zero: an unknown
	// kind, shown as stored).
	Kind i18n.Key
}

// jobKindKeys name the kinds of job (internal/jobs) for the failures page.
var jobKindKeys = map[string]i18n.Key{
	jobs.KindLDAPPerson: i18n.AdminJobLDAPPerson, jobs.KindLDAPStructure: i18n.AdminJobLDAPStructure,
	jobs.KindProvisionAccount: i18n.AdminJobProvision, jobs.KindMailActivate: i18n.AdminJobMailActivate,
	jobs.KindMailReminder: i18n.AdminJobMailActivate, jobs.KindMailReset: i18n.AdminJobMailReset,
	jobs.KindMailAccess: i18n.AdminJobMail, jobs.KindMailPasswordChanged: i18n.AdminJobMail, jobs.KindMailMFAReset: i18n.AdminJobMail,
	jobs.KindMailRecoveryUsed: i18n.AdminJobMail, jobs.KindMailEmailChanged: i18n.AdminJobMail, jobs.KindMailDigest: i18n.AdminJobMailDigest,
	jobs.KindOIDCBackchannelLogout: i18n.AdminJobLogout, jobs.KindOIDCEndSessions: i18n.AdminJobLogout,
}

// jobsView is the data of admin_jobs.html.
type jobsView struct {
	Nav  adminNav
	Jobs []jobView
	Done i18n.Key
}

func (a *Admin) jobs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := StructureFrom(ctx)
	list, err := a.Manager.FailedJobs(ctx, st.ID, 0)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	v := jobsView{Nav: a.nav(r, "jobs"), Done: doneMessage(r)}
	for _, j := range list {
		jv := jobView{Job: j, Kind: jobKindKeys[j.Kind]}
		if id := jobPerson(j); id != "" {
			if p, err := a.Store.GetPerson(ctx, id); err == nil {
				jv.Person = displayName(p)
			}
		}
		v.Jobs = append(v.Jobs, jv)
	}
	a.render(w, r, http.StatusOK, "admin_jobs", i18n.AdminJobsTitle, []any{st.Name}, v)
}

func (a *Admin) retryJob(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("job"), 10, 64)
	if err != nil {
		a.Renderer.WriteError(w, r, Errorf(ENotFound, "admin: job %q", r.PathValue("job")))
		return
	}
	list, err := a.Manager.FailedJobs(ctx, StructureFrom(ctx).ID, 100000)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	if !slices.ContainsFunc(list, func(j store.Job) bool { return j.ID == id }) {
		a.Renderer.WriteError(w, r, Errorf(ENotFound, "admin: job %d is not a failed job of the structure", id))
		return
	}
	if err := a.Manager.RetryJob(ctx, ActorFrom(ctx).Label(), id); err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, a.base(r)+"/jobs", "retried")
}

// importsView is the data of admin_imports.html.
type importsView struct {
	Nav     adminNav
	Imports []importRow
}

// importRow is one past import, with its result named in the page's
// language (StatusKey zero: an unknown status, shown as stored).
type importRow struct {
	store.Import
	StatusKey i18n.Key
}

// importStatusKeys name the results of an import (store.Import.Status).
var importStatusKeys = map[string]i18n.Key{
	onboarding.StatusApplied: i18n.AdminImportApplied, onboarding.StatusDryRun: i18n.AdminImportDryRun,
	onboarding.StatusRejected: i18n.AdminImportRejected,
}

func (a *Admin) imports(w http.ResponseWriter, r *http.Request) {
	st := StructureFrom(r.Context())
	list, err := a.Store.ListImports(r.Context(), st.ID)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	v := importsView{Nav: a.nav(r, "imports")}
	for _, im := range list {
		v.Imports = append(v.Imports, importRow{Import: im, StatusKey: importStatusKeys[im.Status]})
	}
	a.render(w, r, http.StatusOK, "admin_imports", i18n.AdminImportsTitle, []any{st.Name}, v)
}

// jobPerson returns the person a job's payload names, "" when none.
func jobPerson(j store.Job) string {
	var ref struct {
		PersonID string `json:"person_id"`
	}
	_ = json.Unmarshal(j.Payload, &ref)
	return ref.PersonID
}

// auditRow is one audit entry on the page: its action in words (Label,
// zero for a code without one, then shown as written) and its details by
// label; the code stays on the page, small, for support.
type auditRow struct {
	Entry   auditlog.Entry
	Label   i18n.Key
	Details []auditDetail
}

// auditDetail is one key of an entry's details: the key as written (kept
// in a title, for support), its label and its value, in words.
type auditDetail struct {
	Key   string
	Label string
	Value string
}

// auditView is the data of admin_audit.html.
type auditView struct {
	Nav    adminNav
	Person string // the filter
	Rows   []auditRow
}

// audit shows the structure's audit trail, newest first, optionally about
// one person (?person=EMAIL or username).
func (a *Admin) audit(w http.ResponseWriter, r *http.Request) {
	st := StructureFrom(r.Context())
	person := strings.TrimSpace(r.URL.Query().Get("person"))
	if len(person) > 320 {
		person = person[:320]
	}
	v := auditView{Nav: a.nav(r, "audit"), Person: person}
	entries, err := auditlog.List(r.Context(), a.Store, auditlog.Query{Structure: st.Slug, Person: person, Limit: 500})
	if err != nil && !errors.Is(err, auditlog.ErrUnknown) {
		a.Renderer.WriteError(w, r, err)
		return
	}
	lang := Lang(r)
	for _, e := range entries {
		row := auditRow{Entry: e, Label: auditActions[e.Action]}
		for _, k := range slices.Sorted(maps.Keys(e.Details)) {
			row.Details = append(row.Details, auditDetail{Key: k, Label: auditKeyLabel(lang, k), Value: auditValue(lang, e.Details[k])})
		}
		v.Rows = append(v.Rows, row)
	}
	a.render(w, r, http.StatusOK, "admin_audit", i18n.AdminAuditTitle, []any{st.Name}, v)
}

// auditKeyLabel is a details key in words (auditDetailKeys), else as
// written.
func auditKeyLabel(lang, k string) string {
	if key, ok := auditDetailKeys[k]; ok {
		return i18n.T(lang, key)
	}
	return k
}

// auditValue writes a details value, as the store reads it back from JSON,
// for people: yes or no, a number, a text, a list or an object by
// labelled keys — never JSON.
func auditValue(lang string, v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case bool:
		if x {
			return i18n.T(lang, i18n.AuditYes)
		}
		return i18n.T(lang, i18n.AuditNo)
	case string:
		if x == "" {
			return "—"
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, 0, len(x))
		for _, it := range x {
			parts = append(parts, auditValue(lang, it))
		}
		return strings.Join(parts, " ; ")
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, i18n.T(lang, i18n.AdminAuditDetail, auditKeyLabel(lang, k), auditValue(lang, x[k])))
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}
