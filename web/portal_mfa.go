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

// factorState is a person's second factors and the policy that applies
// to them.
type factorState struct {
	factors []store.SecondFactor
	policy  store.MFAPolicy
}

// offered reports whether the portal shows the second factor: the policy
// offers one, or the person has one.
func (s factorState) offered() bool { return s.policy != store.MFAOff || len(s.factors) > 0 }

func (p *Portal) factorState(ctx context.Context, person store.Person) (factorState, error) {
	factors, err := p.Store.ListSecondFactors(ctx, person.ID)
	if err != nil {
		return factorState{}, fmt.Errorf("web: second factors: %w", err)
	}
	policy, err := mfa.PolicyOf(ctx, p.Store, person, p.AdminMFAPolicy)
	return factorState{factors: factors, policy: policy}, err
}

// mfaView reads person's factors and policy; nil when the portal has no
// second factor, or the policy is off and they have none.
func (p *Portal) mfaView(ctx context.Context, person store.Person, lang string) (*mfaView, error) {
	if p.MFA == nil {
		return nil, nil
	}
	st, err := p.factorState(ctx, person)
	if err != nil || !st.offered() {
		return nil, err
	}
	v := &mfaView{Required: st.policy == store.MFARequired, Passkeys: p.Passkeys != nil}
	for _, f := range st.factors {
		fv := factorView{ID: f.ID, Name: f.Name, Added: i18n.Day(f.CreatedAt, p.Location, lang), Kind: i18n.MFAKindTOTP}
		if f.Kind == store.FactorPasskey {
			fv.Kind = i18n.MFAKindPasskey
		}
		if !f.LastUsedAt.IsZero() {
			fv.LastUsed = i18n.Day(f.LastUsedAt, p.Location, lang)
		}
		v.Factors = append(v.Factors, fv)
	}
	if len(st.factors) > 0 {
		if v.CodesLeft, err = p.Store.CountRecoveryCodes(ctx, person.ID); err != nil {
			return nil, fmt.Errorf("web: recovery codes: %w", err)
		}
	}
	return v, nil
}

// enrolPage is the data of account_mfa.html: the enrolment form, or the
// recovery codes just made.
type enrolPage struct {
	Error i18n.Message
	View  EnrolView
	Codes bool // View holds recovery codes to show once
	Intro i18n.Key
}

// mayChange checks that the request may change the person's second
// factors (the form parsed, on a POST): from a session opened with two
// factors when they have one (a stolen password-only session must not add
// its own app or remove theirs), and, factors or not, from a person who
// proved who they are recently (RecentAuth): a session open for days on a
// shared or stolen computer must not change them either. Otherwise it
// sends them to prove it again. A POST gets the QR code's lifetime on top
// (mfa.EnrolmentTTL): a form asked for while fresh stays good while the
// person installs an app and scans the code. It has answered when it
// returns false.
func (p *Portal) mayChange(w http.ResponseWriter, r *http.Request) (store.Person, factorState, bool) {
	person := ActorFrom(r.Context()).Person
	if r.Method == http.MethodPost {
		if err := ParseForm(w, r); err != nil {
			p.Renderer.WriteError(w, r, formError(err))
			return person, factorState{}, false
		}
	}
	st, err := p.factorState(r.Context(), person)
	if err != nil {
		p.Renderer.WriteError(w, r, err)
		return person, st, false
	}
	auth := p.Sessions.SessionAuth(r)
	fresh := p.RecentAuth
	if fresh <= 0 {
		fresh = DefaultRecentAuth
	}
	if r.Method == http.MethodPost {
		fresh += mfa.EnrolmentTTL
	}
	if (len(st.factors) == 0 || slices.Contains(auth.AMR, "mfa")) && p.now().Sub(auth.Time) <= fresh {
		return person, st, true
	}
	next := "/"
	if r.Method == http.MethodGet {
		next = r.URL.Path
	}
	http.Redirect(w, r, SignInAgainURL(p.Sessions.SignInPath(), next), http.StatusSeeOther)
	return person, st, false
}

// DefaultRecentAuth is how recently a person must have proved who they are
// to change their second factors, unless Portal.RecentAuth says otherwise.
const DefaultRecentAuth = 15 * time.Minute

// mayAdd is mayChange for adding a factor, which the policy must offer.
func (p *Portal) mayAdd(w http.ResponseWriter, r *http.Request) (store.Person, factorState, bool) {
	person, st, ok := p.mayChange(w, r)
	if ok && !st.offered() {
		p.Renderer.WriteError(w, r, &Error{Code: EForbidden, Err: errors.New("web: second factor not offered"),
			Message: i18n.M(i18n.MFANotOffered)})
		return person, st, false
	}
	return person, st, ok
}

// showEnrol serves GET /account/second-factor: a new QR code to scan.
func (p *Portal) showEnrol(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := p.mayAdd(w, r); ok {
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
		Data: enrolPage{Error: problem, View: EnrolView{Lang: Lang(r), Action: "/account/second-factor",
			QR: v.QR, Secret: v.Secret, Enrolment: v.Enrolment, Name: r.PostForm.Get("name"), Invalid: problem.Key == i18n.SecondWrong}}})
}

// enrol serves POST /account/second-factor: the app's code confirms the
// QR code scanned; a first factor brings ten recovery codes, shown once.
func (p *Portal) enrol(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	person, _, ok := p.mayAdd(w, r)
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
	person, st, ok := p.mayChange(w, r)
	if !ok {
		return
	}
	id := r.PostForm.Get("id")
	err := p.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
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
			// Already removed (a second tap, another tab), or not theirs.
			return &Error{Code: ENotFound, Err: fmt.Errorf("web: remove factor %q: %w", id, store.ErrNotFound),
				Title: i18n.MFATitle, Message: i18n.M(i18n.MFAGone)}
		case len(factors) == 1 && st.policy == store.MFARequired:
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
	person, _, ok := p.mayChange(w, r)
	if !ok {
		return
	}
	codes, hashes := p.MFA.NewRecoveryCodes(person.ID)
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
	if person, st, ok := p.mayAdd(w, r); ok {
		p.renderPasskey(w, r, http.StatusOK, i18n.Message{}, person, st.factors)
	}
}

// renderPasskey shows a new passkey prompt, which leaves out the
// person's passkeys (factors).
func (p *Portal) renderPasskey(w http.ResponseWriter, r *http.Request, status int, problem i18n.Message, person store.Person,
	factors []store.SecondFactor) {
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
	person, st, ok := p.mayAdd(w, r)
	if !ok {
		return
	}
	codes, _, err := p.Passkeys.FinishRegistration(ctx, p.Store, person, r.PostForm.Get("ceremony"), r.PostForm.Get("answer"),
		r.PostForm.Get("name"), "portal", p.now())
	switch {
	case errors.Is(err, mfa.ErrPasskey):
		p.renderPasskey(w, r, http.StatusUnprocessableEntity, i18n.M(i18n.PasskeyRefused), person, st.factors)
		return
	case err != nil:
		p.Renderer.WriteError(w, r, err)
		return
	}
	p.enrolled(w, r, codes)
}
