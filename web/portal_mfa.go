package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/mfa"
	"sesame/internal/store"
)

// mfaView is the portal's second-factor section.
type mfaView struct {
	Required  bool // the person's policy requires one
	Passkeys  bool // passkeys may be added
	Factors   []factorView
	CodesLeft int
}

// factorView is one enrolled factor as the portal lists it.
type factorView struct {
	ID, Name, Added, LastUsed string
	Kind                      i18n.Key
}

// location is where the portal writes dates.
func (p *Portal) location() *time.Location {
	if p.Location != nil {
		return p.Location
	}
	if loc, err := time.LoadLocation("Europe/Paris"); err == nil {
		return loc
	}
	return time.UTC
}

// mfaView reads person's factors and policy; nil when the portal has no
// second factor, or the policy is off and they have none.
func (p *Portal) mfaView(ctx context.Context, person store.Person, lang string) (*mfaView, error) {
	if p.MFA == nil {
		return nil, nil
	}
	factors, err := p.Store.ListSecondFactors(ctx, person.ID)
	if err != nil {
		return nil, fmt.Errorf("web: second factors: %w", err)
	}
	policy, err := mfa.PolicyOf(ctx, p.Store, person, p.AdminMFAPolicy)
	if err != nil {
		return nil, err
	}
	if policy == store.MFAOff && len(factors) == 0 {
		return nil, nil
	}
	v := &mfaView{Required: policy == store.MFARequired, Passkeys: p.Passkeys != nil}
	for _, f := range factors {
		fv := factorView{ID: f.ID, Name: f.Name, Added: i18n.Day(f.CreatedAt, p.location(), lang), Kind: i18n.MFAKindTOTP}
		if f.Kind == store.FactorPasskey {
			fv.Kind = i18n.MFAKindPasskey
		}
		if !f.LastUsedAt.IsZero() {
			fv.LastUsed = i18n.Day(f.LastUsedAt, p.location(), lang)
		}
		v.Factors = append(v.Factors, fv)
	}
	if len(factors) > 0 {
		if v.CodesLeft, err = p.Store.CountRecoveryCodes(ctx, person.ID); err != nil {
			return nil, fmt.Errorf("web: recovery codes: %w", err)
		}
	}
	return v, nil
}

// enrolPage is the data of account_mfa.html: the enrolment form, or the
// recovery codes just made.
type enrolPage struct {
	Error  i18n.Message
	View   EnrolView
	Codes  bool // View holds recovery codes to show once
	Intro  i18n.Key
	Onward Onward
}

// offered reports whether actor may enrol a factor from the portal.
func (p *Portal) offered(ctx context.Context, person store.Person) (bool, error) {
	v, err := p.mfaView(ctx, person, "")
	return v != nil, err
}

// steppedUp reports whether the request may change the person's second
// factors: always when they have none, else only from a session opened
// with two factors (a stolen password-only session must not add its own
// app or remove theirs). Otherwise it sends them to prove both again, and
// returns false.
func (p *Portal) steppedUp(w http.ResponseWriter, r *http.Request, person store.Person) bool {
	factors, err := p.Store.ListSecondFactors(r.Context(), person.ID)
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return false
	}
	if len(factors) == 0 || slices.Contains(p.Sessions.SessionAMR(r), "mfa") {
		return true
	}
	next := "/"
	if r.Method == http.MethodGet {
		next = r.URL.Path
	}
	http.Redirect(w, r, SignInAgainURL(p.Sessions.SignInPath(), next), http.StatusSeeOther)
	return false
}

// mayAdd checks that the request may add a factor (the page or its form,
// parsed): the policy offers one, and the session may change them (see
// steppedUp). It has answered when it returns false.
func (p *Portal) mayAdd(w http.ResponseWriter, r *http.Request) (store.Person, bool) {
	ctx := r.Context()
	person := ActorFrom(ctx).Person
	if r.Method == http.MethodPost {
		if err := ParseForm(w, r); err != nil {
			p.Renderer.WriteError(w, r, formError(err))
			return person, false
		}
	}
	if ok, err := p.offered(ctx, person); err != nil || !ok {
		if err == nil {
			err = &Error{Code: EForbidden, Err: errors.New("web: second factor not offered"), Message: i18n.M(i18n.MFANotOffered)}
		}
		p.Renderer.WriteError(w, r, err)
		return person, false
	}
	return person, p.steppedUp(w, r, person)
}

// showEnrol serves GET /account/second-factor: a new QR code to scan.
func (p *Portal) showEnrol(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.mayAdd(w, r); ok {
		p.renderEnrol(w, r, http.StatusOK, i18n.Message{}, "")
	}
}

func (p *Portal) renderEnrol(w http.ResponseWriter, r *http.Request, status int, problem i18n.Message, enrolment string) {
	ctx := r.Context()
	person := ActorFrom(ctx).Person
	v, err := p.MFA.NewEnrolmentView(mfa.IssuerName(p.PublicURL), person, enrolment, p.now())
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	p.Renderer.Render(w, r, status, "account_mfa", &Page{Title: i18n.MFATitle, Here: "/account/second-factor",
		Data: enrolPage{Error: problem, Intro: i18n.Key{}, View: EnrolView{Lang: Lang(r), Action: "/account/second-factor",
			QR: v.QR, Secret: v.Secret, Enrolment: v.Enrolment}}})
}

// enrol serves POST /account/second-factor: the app's code confirms the
// QR code scanned; a first factor brings ten recovery codes, shown once.
func (p *Portal) enrol(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	person, ok := p.mayAdd(w, r)
	if !ok {
		return
	}
	enrolment := r.PostForm.Get("enrolment")
	codes, err := p.MFA.EnrolTOTP(ctx, p.Store, person, enrolment, r.PostForm.Get("code"), r.PostForm.Get("name"), "portal", p.now())
	switch {
	case errors.Is(err, mfa.ErrWrongCode):
		p.renderEnrol(w, r, http.StatusUnprocessableEntity, i18n.M(i18n.SecondWrong), enrolment)
		return
	case errors.Is(err, mfa.ErrEnrolment):
		p.renderEnrol(w, r, http.StatusUnprocessableEntity, i18n.M(i18n.SecondEnrolExpired), "")
		return
	case err != nil:
		p.Renderer.WriteError(w, r, err)
		return
	}
	p.enrolled(w, r, codes)
}

// enrolled answers a factor added: its recovery codes when it was the
// first, else back to the portal.
func (p *Portal) enrolled(w http.ResponseWriter, r *http.Request, codes []string) {
	if codes == nil {
		done(w, r, "/", "mfa-added")
		return
	}
	p.showCodes(w, r, codes, i18n.MFAAdded)
}

// showCodes shows recovery codes once, after what made them.
func (p *Portal) showCodes(w http.ResponseWriter, r *http.Request, codes []string, intro i18n.Key) {
	w.Header().Set("Cache-Control", "no-store")
	// The language switch leads to the form the codes came from: they
	// are shown once.
	p.Renderer.Render(w, r, http.StatusOK, "account_mfa", &Page{Title: i18n.SecondCodesTitle, Here: r.URL.Path,
		Data: enrolPage{Codes: true, Intro: intro, View: EnrolView{Lang: Lang(r), Codes: codes}}})
}

// removeFactor serves POST /account/second-factor/remove: one factor
// goes, unless it is the last one and the policy requires one.
func (p *Portal) removeFactor(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	person := ActorFrom(ctx).Person
	if err := ParseForm(w, r); err != nil {
		p.Renderer.WriteError(w, r, formError(err))
		return
	}
	if !p.steppedUp(w, r, person) {
		return
	}
	id := r.PostForm.Get("id")
	policy, err := mfa.PolicyOf(ctx, p.Store, person, p.AdminMFAPolicy)
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	err = p.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		factors, err := tx.ListSecondFactors(ctx, person.ID)
		if err != nil {
			return err
		}
		var name string
		for _, f := range factors {
			if f.ID == id {
				name = f.Name
			}
		}
		switch {
		case name == "":
			return fmt.Errorf("web: remove factor %q: %w", id, store.ErrNotFound)
		case len(factors) == 1 && policy == store.MFARequired:
			return &Error{Code: EConflict, Err: errors.New("web: the last factor of a person who must have one"), Message: i18n.M(i18n.MFALastFactor)}
		}
		if err := tx.DeleteSecondFactor(ctx, person.ID, id); err != nil {
			return err
		}
		if len(factors) == 1 { // no factor left: the codes would be worth nothing
			if err := tx.SetRecoveryCodes(ctx, person.ID, nil, p.now()); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{Actor: "person:" + person.ID, Action: "person.mfa.remove",
			Target: "person:" + person.ID, Details: map[string]any{"name": name}, IP: p.clientIP(r)})
	})
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, "/", "mfa-removed")
}

// renewCodes serves POST /account/second-factor/codes: ten new recovery
// codes replace the old ones.
func (p *Portal) renewCodes(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	person := ActorFrom(ctx).Person
	if !p.steppedUp(w, r, person) {
		return
	}
	codes, hashes := mfa.NewRecoveryCodes()
	err := p.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		factors, err := tx.ListSecondFactors(ctx, person.ID)
		if err != nil {
			return err
		}
		if len(factors) == 0 {
			return Errorf(EConflict, "web: recovery codes without a second factor")
		}
		if err := tx.SetRecoveryCodes(ctx, person.ID, hashes, p.now()); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{Actor: "person:" + person.ID, Action: "person.mfa.codes",
			Target: "person:" + person.ID, IP: p.clientIP(r)})
	})
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	p.showCodes(w, r, codes, i18n.MFACodesRenewed)
}

// clientIP is the address an audit entry records.
func (p *Portal) clientIP(r *http.Request) string {
	if p.ClientIP != nil {
		return p.ClientIP(r)
	}
	return ClientIP(r)
}

// passkeyPage is the data of account_passkey.html.
type passkeyPage struct {
	Error   i18n.Message
	Passkey PasskeyForm
}

// showPasskey serves GET /account/passkey: the button that creates a
// passkey.
func (p *Portal) showPasskey(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.mayAdd(w, r); ok {
		p.renderPasskey(w, r, http.StatusOK, i18n.Message{})
	}
}

func (p *Portal) renderPasskey(w http.ResponseWriter, r *http.Request, status int, problem i18n.Message) {
	ctx := r.Context()
	person := ActorFrom(ctx).Person
	factors, err := p.Store.ListSecondFactors(ctx, person.ID)
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	prompt, err := p.Passkeys.BeginRegistration(person, factors, p.now())
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return
	}
	p.Renderer.Render(w, r, status, "account_passkey", &Page{Title: i18n.PasskeyTitle, Here: "/account/passkey",
		Data: passkeyPage{Error: problem, Passkey: PasskeyForm{Lang: Lang(r), ID: "passkey-options", Action: "/account/passkey",
			Mode: "create", Options: template.JS(prompt.Options), Ceremony: prompt.Ceremony, Label: i18n.PasskeyCreateLabel, AskName: true}}})
}

// addPasskey serves POST /account/passkey: the browser's answer stores the
// passkey; a first factor brings ten recovery codes, shown once.
func (p *Portal) addPasskey(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	person, ok := p.mayAdd(w, r)
	if !ok {
		return
	}
	codes, _, err := p.Passkeys.FinishRegistration(ctx, p.Store, person, r.PostForm.Get("ceremony"), r.PostForm.Get("answer"),
		r.PostForm.Get("name"), "portal", p.now())
	switch {
	case errors.Is(err, mfa.ErrPasskey):
		p.renderPasskey(w, r, http.StatusUnprocessableEntity, i18n.M(i18n.PasskeyRefused))
		return
	case err != nil:
		p.Renderer.WriteError(w, r, err)
		return
	}
	p.enrolled(w, r, codes)
}
