package idp

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/jobs"
	"sesame/internal/mfa"
	"sesame/internal/store"
	"sesame/web"
)

// pathSecondFactor is the login's second step: a TOTP or recovery code,
// or the enrolment of a first factor when the policy requires one.
const pathSecondFactor = "second-factor"

// stepCookie carries a login between the password and the second factor.
const stepCookie = "sesame_step"

// stepTTL is how long a person has, after their password, to give the
// second factor (or enrol one).
const stepTTL = 15 * time.Minute

// The Authentication Method Reference values (RFC 8176) the provider
// puts in ID tokens.
const (
	amrPassword = "pwd"
	amrOTP      = "otp"
	amrMFA      = "mfa"
)

// The two authentication context classes of acr_values_supported: a
// password alone, and two factors.
const (
	ACRPassword  = "urn:sesame:acr:password"
	ACRTwoFactor = "urn:sesame:acr:2fa"
)

// acrOf is the class amr reaches.
func acrOf(amr []string) string {
	if slices.Contains(amr, amrMFA) {
		return ACRTwoFactor
	}
	return ACRPassword
}

// loginStep is a login whose password was right, waiting for its second
// factor. It lives in a cookie sealed under the master key and bound to
// the browser cookie: nothing to store, any replica can read it, and it is
// worth nothing without the second factor.
type loginStep struct {
	PersonID string    `json:"p"`
	Request  string    `json:"r,omitempty"` // the authorization request the login continues
	Next     string    `json:"n,omitempty"` // or, for sesame's own sign-in, the local path to go on to
	Expires  time.Time `json:"e"`
	// Enrol is set when the person has no factor and must enrol one;
	// LaterUntil, when not zero, is until when they may put it off.
	Enrol      bool      `json:"en,omitempty"`
	LaterUntil time.Time `json:"l,omitempty"`
	// Done is the AMR reached once a factor was just enrolled: its
	// recovery codes are on screen, and "continue" finishes the login.
	Done []string `json:"d,omitempty"`
}

// secondStep says whether person, whose password was just right, has a
// second step to go through, and which: nil when none. requireMFA is the
// client's demand (acr_values or the service's setting).
func (p *Provider) secondStep(ctx context.Context, person store.Person, requireMFA bool) (*loginStep, error) {
	factors, err := p.st.ListSecondFactors(ctx, person.ID)
	if err != nil {
		return nil, fmt.Errorf("idp: second factors: %w", err)
	}
	now := p.now()
	step := &loginStep{PersonID: person.ID, Expires: now.Add(stepTTL)}
	if len(factors) > 0 {
		return step, nil
	}
	policy, err := mfa.PolicyOf(ctx, p.st, person, p.cfg.AdminMFAPolicy)
	if err != nil {
		return nil, err
	}
	switch {
	case requireMFA:
		step.Enrol = true // the client will take nothing less: no putting off
	case policy == store.MFARequired:
		step.Enrol = true
		grace := person.MFAGraceUntil
		if grace.IsZero() {
			grace = now.Add(p.cfg.MFAGrace)
			if _, err := p.st.UpdatePerson(ctx, person.ID, func(x *store.Person) error {
				if x.MFAGraceUntil.IsZero() {
					x.MFAGraceUntil = grace
				}
				grace = x.MFAGraceUntil
				return nil
			}); err != nil {
				return nil, fmt.Errorf("idp: start the grace period: %w", err)
			}
		}
		if now.Before(grace) {
			step.LaterUntil = grace
		}
	default:
		return nil, nil
	}
	return step, nil
}

// stepAD binds a step cookie to the browser cookie's value.
func stepAD(browser string) string { return "step:" + hex.EncodeToString(sha(browser)) }

// setStep seals step into its cookie, bound to the browser cookie (set
// now when the browser has none).
func (p *Provider) setStep(w http.ResponseWriter, r *http.Request, step *loginStep) error {
	sealed, err := p.stepBox.SealJSON(stepAD(p.browserID(w, r)), step)
	if err != nil {
		return fmt.Errorf("idp: seal login step: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: p.cookieStep, Value: sealed, Path: p.path,
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode, MaxAge: int(stepTTL / time.Second)})
	return nil
}

// readStep returns the request's login step: ErrNotFound when there is
// none, it is another browser's or damaged, ErrTokenExpired when it is
// too old.
func (p *Provider) readStep(r *http.Request) (loginStep, error) {
	c, err := r.Cookie(p.cookieStep)
	if err != nil || c.Value == "" {
		return loginStep{}, store.ErrNotFound
	}
	b, err := r.Cookie(p.cookieBrowser)
	if err != nil {
		return loginStep{}, store.ErrNotFound
	}
	var s loginStep
	if err := p.stepBox.OpenJSON(stepAD(b.Value), c.Value, &s); err != nil || s.PersonID == "" {
		return loginStep{}, store.ErrNotFound
	}
	if !p.now().Before(s.Expires) {
		return s, store.ErrTokenExpired
	}
	return s, nil
}

func (p *Provider) clearStep(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: p.cookieStep, Value: "", Path: p.path, HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// toSecondStep starts step (after a right password) and sends the browser
// to it.
func (p *Provider) toSecondStep(w http.ResponseWriter, r *http.Request, step *loginStep, on web.Onward) {
	if err := p.setStep(w, r, step); err != nil {
		p.unavailable(w, r, err, on)
		return
	}
	http.Redirect(w, r, p.local(pathSecondFactor), http.StatusSeeOther)
}

// secondFactorPage is the data of login_second.html.
type secondFactorPage struct {
	Username string
	Error    i18n.Message
	// Enrol is set when a first factor is being enrolled (View shows
	// it), LaterUntil when that may be put off; Done once it is (View
	// shows the recovery codes, once).
	Enrol      bool
	LaterUntil string
	Done       bool
	View       web.EnrolView
	Onward     web.Onward
	// HasTOTP is set when the person has an app whose code the page asks;
	// Passkey, when passkeys are on, uses one of theirs (or, enrolling,
	// creates one).
	HasTOTP bool
	Passkey *web.PasskeyForm
}

// CodeWrong reports whether the page's error is about the code typed.
func (s secondFactorPage) CodeWrong() bool {
	return s.Error.Key == i18n.SecondWrong || s.Error.Key == i18n.SecondReplayed
}

// pendingLogin is what the second step works on: the step, its person,
// and (unless it is sesame's own sign-in) its authorization request and
// service.
type pendingLogin struct {
	step   loginStep
	person store.Person
	ar     store.AuthRequest
	svc    store.Service
}

// formOrigins are where the second step's forms may end up (see
// formOrigins): the client's, when the login answers one.
func (pl *pendingLogin) formOrigins() []string {
	if pl.ar.ID == "" {
		return nil
	}
	return formOrigins(pl.svc, pl.ar.RedirectURI)
}

// stepTarget is where a login step leads: its authorization request and
// service, or nothing for the sign-in.
func (p *Provider) stepTarget(ctx context.Context, r *http.Request, step loginStep) (store.AuthRequest, store.Service, error) {
	if step.Request == "" {
		return store.AuthRequest{}, store.Service{}, nil
	}
	ar, err := p.loginRequest(ctx, r, step.Request)
	if err != nil {
		return ar, store.Service{}, err
	}
	svc, err := p.st.GetServiceByClientID(ctx, ar.ClientID)
	return ar, svc, err
}

// handleSecondFactor serves GET and POST /second-factor: the code of a
// person who has a factor, or the enrolment of one, then the end of the
// login (the code for the client, or the sign-in's next page).
func (p *Provider) handleSecondFactor(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	step, err := p.readStep(r)
	if err != nil {
		p.clearStep(w)
		p.refuse(w, r, i18n.LoginExpiredTitle, i18n.SecondExpired, "second factor: "+err.Error(), web.Onward{})
		return
	}
	ar, svc, err := p.stepTarget(ctx, r, step)
	if err != nil {
		p.clearStep(w)
		p.loginRequestError(w, r, ar, err)
		return
	}
	on := p.onward(ctx, svc)
	person, err := p.st.GetPerson(ctx, step.PersonID)
	// A password changed since the step began (a reset after a leak) ends
	// it: the old password must not finish a login.
	if err != nil || person.State != store.StateActive || person.PasswordChangedAt.After(step.Expires.Add(-stepTTL)) {
		p.clearStep(w)
		p.refuse(w, r, i18n.LoginExpiredTitle, i18n.SecondExpired, "second factor: the person is gone or not active", on)
		return
	}
	pl := &pendingLogin{step: step, person: person, ar: ar, svc: svc}
	if step.Enrol && len(step.Done) == 0 {
		// The step was sealed when the person had no factor. If they have
		// enrolled one since (on another device, in the portal), the step
		// asks for it now: "later" and a second enrolment, proved by the
		// password alone, are no longer offered.
		factors, err := p.st.ListSecondFactors(ctx, person.ID)
		if err != nil {
			p.unavailable(w, r, fmt.Errorf("idp: second factors: %w", err), on)
			return
		}
		if len(factors) > 0 {
			pl.step.Enrol, pl.step.LaterUntil = false, time.Time{}
			if err := p.setStep(w, r, &pl.step); err != nil {
				p.unavailable(w, r, err, on)
				return
			}
			p.log.Info("idp: enrolment step turned into a verification: the person has a factor now", "person", person.ID)
			p.showSecondFactor(w, r, http.StatusOK, pl, i18n.Message{})
			return
		}
	}
	if r.Method != http.MethodPost {
		p.showSecondFactor(w, r, http.StatusOK, pl, i18n.Message{})
		return
	}
	if err := p.sameOrigin.Check(r); err != nil {
		p.fail(w, r, &web.Error{Code: web.EForbidden, Err: fmt.Errorf("idp: second-factor form from another origin: %w", err),
			Title: i18n.LoginCrossOriginTitle, Message: i18n.M(i18n.LoginCrossOrigin)}, on)
		return
	}
	if err := web.ParseForm(w, r); err != nil {
		p.badForm(w, r, err, i18n.LoginMalformedForm)
		return
	}
	switch action := r.PostForm.Get("action"); {
	case action == "continue" && len(step.Done) > 0:
		p.completeLogin(w, r, pl, step.Done)
	case action == "later" && step.Enrol && p.now().Before(step.LaterUntil):
		p.log.Info("idp: second factor enrolment put off", "person", person.ID, "until", step.LaterUntil)
		p.completeLogin(w, r, pl, []string{amrPassword})
	case action == "enrol" && step.Enrol && len(step.Done) == 0:
		p.enrolAtLogin(w, r, pl)
	case action == "verify" && !step.Enrol && len(step.Done) == 0:
		p.verifyAtLogin(w, r, pl)
	case action == "passkey" && !step.Enrol && len(step.Done) == 0 && p.passkeys != nil:
		p.passkeyAtLogin(w, r, pl)
	case action == "register" && step.Enrol && len(step.Done) == 0 && p.passkeys != nil:
		p.registerAtLogin(w, r, pl)
	default:
		p.showSecondFactor(w, r, http.StatusBadRequest, pl, i18n.M(i18n.LoginMalformedForm))
	}
}

// codeAllowed returns the buckets a second-factor attempt counts against,
// or answers 429 (the second step again, with Retry-After) when one is
// empty. They are the login's own (the client's address and the person),
// so that a password guessed right does not buy a fresh allowance of code
// guesses.
//
// Only failures spend (see limited), so the check and the spending after
// a wrong code must not interleave with another attempt's: the person's
// attempts are taken one at a time, and release, called once the attempt
// is decided, lets the next one check. Without it, every code in flight
// found a token left: 25 to 61 of 200 wrong codes sent at once were
// checked against a burst of 10. A code verifies in a millisecond or two,
// so a crowd drains fast; one that cannot get its turn within
// codeTurnWait is answered 429 as well. Replicas sharing the limit
// (SharedLimiter) each take their own turns: at most one more code per
// replica than the burst.
func (p *Provider) codeAllowed(w http.ResponseWriter, r *http.Request, pl *pendingLogin) (limits []string, release func(), ok bool) {
	tooMany := func(wait time.Duration) {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		p.showSecondFactor(w, r, http.StatusTooManyRequests, pl, i18n.M(i18n.LoginTooMany))
	}
	ctx, cancel := context.WithTimeout(r.Context(), codeTurnWait)
	defer cancel()
	release, err := p.codeLocks.lock(ctx, pl.person.ID)
	if err != nil {
		tooMany(time.Second)
		return nil, nil, false
	}
	limits = p.limitKeys(r, pl.person.Username, pl.person, true)
	if wait, limited := p.limited(limits); limited {
		release()
		tooMany(wait)
		return nil, nil, false
	}
	return limits, release, true
}

// codeTurnWait bounds how long a second-factor attempt waits for the
// person's previous ones (codeAllowed).
const codeTurnWait = 5 * time.Second

// verifyAtLogin checks the code of a person who has a factor.
func (p *Provider) verifyAtLogin(w http.ResponseWriter, r *http.Request, pl *pendingLogin) {
	person := pl.person
	limits, release, ok := p.codeAllowed(w, r, pl)
	if !ok {
		return
	}
	defer release()
	// A recovery code spent and the email that tells the person (if it
	// was not them, their password and a code are known) go together.
	var method mfa.Method
	err := p.tx(r.Context(), func(ctx context.Context, tx store.Tx) error {
		var err error
		method, err = p.secrets.Verify(ctx, tx, person.ID, r.PostForm.Get("code"), p.now())
		if err != nil || method != mfa.MethodRecovery {
			return err
		}
		ref, err := json.Marshal(jobs.PersonRef{PersonID: person.ID})
		if err != nil {
			return err
		}
		_, err = tx.EnqueueJob(ctx, &store.Job{Kind: jobs.KindMailRecoveryUsed, Payload: ref})
		return err
	})
	switch {
	case errors.Is(err, mfa.ErrWrongCode), errors.Is(err, mfa.ErrReplayed):
		p.failed(limits)
		msg := i18n.SecondWrong
		if errors.Is(err, mfa.ErrReplayed) {
			msg = i18n.SecondReplayed
		}
		p.log.Info("idp: second factor refused", "person", person.ID, "method", method, "err", err)
		p.showSecondFactor(w, r, http.StatusUnauthorized, pl, i18n.M(msg))
		return
	case err != nil:
		p.unavailable(w, r, fmt.Errorf("idp: second factor: %w", err), p.onward(r.Context(), pl.svc))
		return
	}
	if method == mfa.MethodRecovery {
		p.log.Info("idp: recovery code used", "person", person.ID)
	}
	p.completeLogin(w, r, pl, []string{amrPassword, amrOTP, amrMFA})
}

// enrolAtLogin confirms the factor a person was walked through enrolling,
// then shows their recovery codes once.
func (p *Provider) enrolAtLogin(w http.ResponseWriter, r *http.Request, pl *pendingLogin) {
	person := pl.person
	ctx := r.Context()
	limits, release, ok := p.codeAllowed(w, r, pl)
	if !ok {
		return
	}
	defer release()
	codes, err := p.secrets.EnrolTOTP(ctx, p.st, person, r.PostForm.Get("enrolment"), r.PostForm.Get("code"),
		r.PostForm.Get("name"), "login", p.now())
	switch {
	case errors.Is(err, mfa.ErrWrongCode):
		p.failed(limits)
		p.showSecondFactorWith(w, r, http.StatusUnauthorized, pl, i18n.M(i18n.SecondWrong), r.PostForm.Get("enrolment"))
		return
	case errors.Is(err, mfa.ErrEnrolment):
		p.showSecondFactor(w, r, http.StatusBadRequest, pl, i18n.M(i18n.SecondEnrolExpired))
		return
	case err != nil:
		p.unavailable(w, r, err, p.onward(ctx, pl.svc))
		return
	}
	p.showCodesAtLogin(w, r, pl, codes, []string{amrPassword, amrOTP, amrMFA})
}

// showCodesAtLogin ends an enrolment at login: the step remembers the
// factors given (amr), and the recovery codes are shown once, with the
// button that finishes the login.
func (p *Provider) showCodesAtLogin(w http.ResponseWriter, r *http.Request, pl *pendingLogin, codes, amr []string) {
	on := p.onward(r.Context(), pl.svc)
	pl.step.Done = amr
	if err := p.setStep(w, r, &pl.step); err != nil {
		p.unavailable(w, r, err, on)
		return
	}
	p.rd.Render(w, r, http.StatusOK, "login_second", &web.Page{Title: i18n.SecondCodesTitle, Structure: on.Structure,
		Here: p.local(pathSecondFactor), FormOrigins: pl.formOrigins(),
		Data: secondFactorPage{Username: pl.person.Username, Done: true, Onward: on,
			View: web.EnrolView{Lang: web.Lang(r), Codes: codes}}})
}

// showSecondFactor renders the second step: a fresh QR code when step
// enrols.
func (p *Provider) showSecondFactor(w http.ResponseWriter, r *http.Request, status int, pl *pendingLogin, problem i18n.Message) {
	p.showSecondFactorWith(w, r, status, pl, problem, "")
}

// showSecondFactorWith renders the second step; an enrolment given again
// (a wrong code) keeps the QR code the person already scanned.
func (p *Provider) showSecondFactorWith(w http.ResponseWriter, r *http.Request, status int, pl *pendingLogin, problem i18n.Message,
	enrolment string) {
	ctx := r.Context()
	step, person := pl.step, pl.person
	on := p.onward(ctx, pl.svc)
	data := secondFactorPage{Username: person.Username, Error: problem, Onward: on, Done: len(step.Done) > 0}
	factors, err := p.st.ListSecondFactors(ctx, person.ID)
	if err != nil {
		p.unavailable(w, r, fmt.Errorf("idp: second factors: %w", err), on)
		return
	}
	for _, f := range factors {
		data.HasTOTP = data.HasTOTP || f.Kind == store.FactorTOTP
	}
	if p.passkeys != nil && !data.Done {
		var prompt mfa.Prompt
		form := &web.PasskeyForm{Lang: web.Lang(r), ID: "passkey-options", Action: pathSecondFactor}
		if step.Enrol {
			prompt, err = p.passkeys.BeginRegistration(person, factors, p.now())
			form.Mode, form.Hidden, form.Label, form.AskName, form.Secondary = "create", map[string]string{"action": "register"},
				i18n.PasskeyCreateLabel, true, true
			form.Intro = i18n.PasskeyOr
		} else {
			prompt, err = p.passkeys.BeginLogin(person, factors, p.now())
			form.Mode, form.Hidden, form.Label, form.Secondary = "get", map[string]string{"action": "passkey"}, i18n.PasskeyUseLabel, data.HasTOTP
		}
		switch {
		case errors.Is(err, store.ErrNotFound): // no passkey of theirs
		case err != nil:
			p.unavailable(w, r, err, on)
			return
		default:
			form.Options, form.Ceremony = template.JS(prompt.Options), prompt.Ceremony
			data.Passkey = form
		}
	}
	title := i18n.SecondTitle
	switch {
	case data.Done:
		title = i18n.SecondCodesTitle
	case step.Enrol:
		title = i18n.SecondEnrolTitle
		v, err := p.secrets.NewEnrolmentView(mfa.IssuerName(p.issuer), person, enrolment, p.now())
		if err != nil {
			p.unavailable(w, r, err, on)
			return
		}
		data.Enrol = true
		data.View = web.EnrolView{Lang: web.Lang(r), Action: pathSecondFactor, QR: v.QR, Secret: v.Secret, Enrolment: v.Enrolment,
			Name: r.PostForm.Get("name"), Invalid: problem.Key == i18n.SecondWrong}
		if !step.LaterUntil.IsZero() {
			data.LaterUntil = i18n.Day(step.LaterUntil, p.cfg.Location, web.Lang(r))
		}
	}
	p.rd.Render(w, r, status, "login_second", &web.Page{Title: title, Structure: on.Structure, Here: p.local(pathSecondFactor),
		FormOrigins: pl.formOrigins(), Data: data})
}

// completeLogin ends a login whose factors are all given: the session
// (with amr) and then the client's code, or the sign-in's next page.
func (p *Provider) completeLogin(w http.ResponseWriter, r *http.Request, pl *pendingLogin, amr []string) {
	p.clearStep(w)
	if pl.step.Request == "" {
		if _, err := p.startSession(r.Context(), w, r, pl.person, amr); err != nil {
			p.unavailable(w, r, err, web.Onward{})
			return
		}
		http.Redirect(w, r, SafeNext(pl.step.Next), http.StatusSeeOther)
		return
	}
	p.finishLogin(w, r, pl.ar, pl.svc, pl.person, amr)
}

// discoverForm is the passkey form of a login page (action, with hidden
// fields): a passkey alone logs in. Nil when passkeys are off, or when the
// prompt cannot be made (logged: the password form remains).
func (p *Provider) discoverForm(r *http.Request, action string, hidden map[string]string) *web.PasskeyForm {
	if p.passkeys == nil {
		return nil
	}
	prompt, err := p.passkeys.BeginDiscoverable(p.now())
	if err != nil {
		p.log.Error("idp: passkey prompt", "err", err)
		return nil
	}
	h := map[string]string{"action": "passkey"}
	for k, v := range hidden {
		h[k] = v
	}
	return &web.PasskeyForm{Lang: web.Lang(r), ID: "passkey-login", Action: action, Mode: "get", Options: template.JS(prompt.Options),
		Ceremony: prompt.Ceremony, Hidden: h, Label: i18n.PasskeyLoginLabel, Secondary: true}
}

// passkeyAlone checks a login form's passkey answer (the person unknown
// until then). A passkey that verified its user (PIN, fingerprint) counts
// as two factors; the options ask for that, so another is refused. On
// failure it calls refused with the problem (or answers itself) and
// returns false; the failure counts against the client's address.
func (p *Provider) passkeyAlone(w http.ResponseWriter, r *http.Request, refused func(i18n.Message), on web.Onward) (store.Person, []string, bool) {
	ctx := r.Context()
	if p.passkeys == nil {
		refused(i18n.M(i18n.PasskeyRefused))
		return store.Person{}, nil, false
	}
	var limits []string // the client's address: nobody is known yet
	if p.cfg.LoginLimiter != nil {
		limits = []string{"ip:" + p.clientKey(r)}
		if wait, limited := p.limited(limits); limited {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			refused(i18n.M(i18n.LoginTooMany))
			return store.Person{}, nil, false
		}
	}
	use, err := p.passkeys.FinishLogin(ctx, p.st, store.Person{}, r.PostForm.Get("ceremony"), r.PostForm.Get("answer"), p.now())
	var person store.Person
	if err == nil {
		person, err = p.st.GetPerson(ctx, use.PersonID)
		if err == nil && (person.State != store.StateActive || person.PasswordHash == "" || !use.UserVerified) {
			err = fmt.Errorf("%w: the person is not active, or the key did not verify them", mfa.ErrPasskey)
		}
	}
	switch {
	case errors.Is(err, mfa.ErrPasskey):
		p.failed(limits)
		p.log.Info("idp: passkey login refused", "err", err)
		refused(i18n.M(i18n.PasskeyRefused))
		return store.Person{}, nil, false
	case err != nil:
		p.unavailable(w, r, fmt.Errorf("idp: passkey login: %w", err), on)
		return store.Person{}, nil, false
	}
	return person, append(use.AMR, amrMFA), true
}

// passkeyAtLogin checks the passkey of a person who has one, as their
// second factor.
func (p *Provider) passkeyAtLogin(w http.ResponseWriter, r *http.Request, pl *pendingLogin) {
	person := pl.person
	limits, release, ok := p.codeAllowed(w, r, pl)
	if !ok {
		return
	}
	defer release()
	use, err := p.passkeys.FinishLogin(r.Context(), p.st, person, r.PostForm.Get("ceremony"), r.PostForm.Get("answer"), p.now())
	switch {
	case errors.Is(err, mfa.ErrPasskey):
		p.failed(limits)
		p.log.Info("idp: passkey refused", "person", person.ID, "err", err)
		p.showSecondFactor(w, r, http.StatusUnauthorized, pl, i18n.M(i18n.PasskeyRefused))
		return
	case err != nil:
		p.unavailable(w, r, fmt.Errorf("idp: passkey: %w", err), p.onward(r.Context(), pl.svc))
		return
	}
	p.completeLogin(w, r, pl, append(append([]string{amrPassword}, use.AMR...), amrMFA))
}

// registerAtLogin stores the passkey a person was walked through creating.
func (p *Provider) registerAtLogin(w http.ResponseWriter, r *http.Request, pl *pendingLogin) {
	person := pl.person
	codes, amr, err := p.passkeys.FinishRegistration(r.Context(), p.st, person, r.PostForm.Get("ceremony"), r.PostForm.Get("answer"),
		r.PostForm.Get("name"), "login", p.now())
	switch {
	case errors.Is(err, mfa.ErrPasskey):
		p.log.Info("idp: passkey registration refused", "person", person.ID, "err", err)
		p.showSecondFactor(w, r, http.StatusUnprocessableEntity, pl, i18n.M(i18n.PasskeyRefused))
		return
	case err != nil:
		p.unavailable(w, r, fmt.Errorf("idp: passkey: %w", err), p.onward(r.Context(), pl.svc))
		return
	}
	p.showCodesAtLogin(w, r, pl, codes, append(append([]string{amrPassword}, amr...), amrMFA))
}
