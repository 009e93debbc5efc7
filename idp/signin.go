package idp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"sesame/internal/i18n"
	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/web"
)

// pathSignIn is sesame's own login page: the administration pages and the
// portal send a person there (with ?next=) when they need to know who is
// there. It opens the same SSO session as a service's login.
const pathSignIn = "signin"

// SafeNext returns next when it is a path on this site ("/admin/..."),
// else "/": never an absolute URL, a scheme-relative "//host", a
// backslash (which browsers read as a slash) or a control character, so
// a sign-in link cannot send anyone elsewhere.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// signInPage is the data of signin.html.
type signInPage struct {
	Next     string
	Username string
	Error    i18n.Message
	Passkey  *web.PasskeyForm // logging in with a passkey alone; nil when passkeys are off
}

// The form of the layout's "password-login" partial: where it posts, and
// its hidden field (where to go next).
func (signInPage) FormAction() string  { return pathSignIn }
func (signInPage) FormField() string   { return "next" }
func (s signInPage) FormValue() string { return s.Next }

// SignInPath is the path of the sign-in page, for web.SignInURL.
func (p *Provider) SignInPath() string { return p.local(pathSignIn) }

// CurrentPerson returns the person of the request's SSO session: an active
// person with a valid session. store.ErrNotFound when there is none.
func (p *Provider) CurrentPerson(r *http.Request) (store.Person, error) {
	_, person, err := p.session(r.Context(), r)
	return person, err
}

// SessionAuth returns how and when the person of the request's SSO
// session last proved who they are (a session from before amr was
// recorded: a password); the zero SessionAuth without a valid session.
func (p *Provider) SessionAuth(r *http.Request) web.SessionAuth {
	s, _, err := p.session(r.Context(), r)
	if err != nil {
		return web.SessionAuth{}
	}
	amr := s.AMR
	if len(amr) == 0 {
		amr = []string{amrPassword}
	}
	return web.SessionAuth{AMR: amr, Time: s.AuthTime}
}

// SignOut ends the request's SSO session (its tokens are revoked and its
// clients told by back-channel logout) and clears the cookie.
func (p *Provider) SignOut(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if c, err := r.Cookie(p.cookieSSO); err == nil && c.Value != "" {
		err := p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
			s, err := tx.DeleteSSOSession(ctx, sha(c.Value))
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if _, err := tx.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{SID: s.SID}, p.now()); err != nil {
				return err
			}
			return queueBackchannel(ctx, tx, []store.SSOSession{s}, "")
		})
		if err != nil {
			return fmt.Errorf("idp: sign out: %w", err)
		}
	}
	p.clearCookie(w)
	return nil
}

// SignOutEverywhere ends every SSO session of the request's person and
// clears this browser's cookie.
func (p *Provider) SignOutEverywhere(w http.ResponseWriter, r *http.Request, personID string) error {
	if err := p.EndAllSessions(r.Context(), personID); err != nil {
		return fmt.Errorf("idp: sign out everywhere: %w", err)
	}
	p.clearCookie(w)
	return nil
}

func (p *Provider) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: p.cookieSSO, Value: "", Path: p.path, HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// EndOtherSessions ends every SSO session of personID but the request's
// own (after a password change): their tokens are revoked and their
// clients told by back-channel logout.
func (p *Provider) EndOtherSessions(ctx context.Context, r *http.Request, personID string) error {
	var keep []byte
	if c, err := r.Cookie(p.cookieSSO); err == nil && c.Value != "" {
		keep = sha(c.Value)
	}
	return p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		ended, err := tx.DeletePersonSSOSessions(ctx, personID)
		if err != nil {
			return err
		}
		var others []store.SSOSession
		keptSID := ""
		for _, s := range ended {
			if keep != nil && string(s.Hash) == string(keep) {
				kept := s
				if err := tx.CreateSSOSession(ctx, &kept); err != nil {
					return err
				}
				keptSID = s.SID
				continue
			}
			others = append(others, s)
		}
		// Every family of the person but the kept session's: those of
		// the sessions ended now, and those whose session is long gone
		// (idled out and purged while a client kept refreshing).
		if _, err := tx.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{PersonID: personID, ExceptSID: keptSID}, p.now()); err != nil {
			return err
		}
		return queueBackchannel(ctx, tx, others, "")
	})
}

func (p *Provider) showSignIn(w http.ResponseWriter, r *http.Request, status int, next, username string, problem i18n.Message) {
	p.rd.Render(w, r, status, "signin", &web.Page{Title: i18n.SignInTitle,
		Here: p.SignInPath() + "?next=" + url.QueryEscape(next),
		Data: signInPage{Next: next, Username: username, Error: problem,
			Passkey: p.discoverForm(r, pathSignIn, map[string]string{"next": next})}})
}

// handleSignIn serves GET and POST /signin?next=PATH: the login form for
// sesame's own pages. A person already signed in goes straight to next.
func (p *Provider) handleSignIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if err := web.ParseForm(w, r); err != nil {
			p.badForm(w, r, err, i18n.LoginMalformedForm)
			return
		}
		next := SafeNext(r.Form.Get("next"))
		again := r.Form.Get("prompt") == "login"
		if _, err := p.CurrentPerson(r); err == nil && !again {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		var problem i18n.Message
		if again {
			problem = i18n.M(i18n.SignInAgain)
		}
		p.showSignIn(w, r, http.StatusOK, next, "", problem)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	release, ok := p.readLoginForm(w, r, "sign-in")
	if !ok {
		return
	}
	defer release()
	next := SafeNext(r.PostForm.Get("next"))
	if r.PostForm.Get("action") == "passkey" {
		person, amr, ok := p.passkeyAlone(w, r, func(problem i18n.Message) {
			p.showSignIn(w, r, http.StatusUnauthorized, next, "", problem)
		}, web.Onward{})
		if !ok {
			return
		}
		if _, err := p.startSession(ctx, w, r, person, amr); err != nil {
			p.unavailable(w, r, err, web.Onward{})
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	account, found, err := p.findAccount(ctx, username)
	if err != nil {
		p.unavailable(w, r, fmt.Errorf("idp: sign in: %w", err), web.Onward{})
		return
	}
	person, ok, err := p.tryPassword(r, username, account, found)
	var limited errLimited
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.wait.Seconds())+1))
		p.showSignIn(w, r, http.StatusTooManyRequests, next, username, i18n.M(i18n.LoginTooMany))
		return
	case errors.Is(err, password.ErrBusy):
		w.Header().Set("Retry-After", "2")
		p.showSignIn(w, r, http.StatusServiceUnavailable, next, username, i18n.M(i18n.LoginBusy))
		return
	case err != nil:
		p.unavailable(w, r, fmt.Errorf("idp: sign in: %w", err), web.Onward{})
		return
	case !ok:
		p.showSignIn(w, r, http.StatusUnauthorized, next, username, i18n.M(i18n.LoginWrong))
		return
	}
	step, err := p.secondStep(ctx, person, false)
	if err != nil {
		p.unavailable(w, r, err, web.Onward{})
		return
	}
	if step != nil {
		step.Next = next
		p.toSecondStep(w, r, step, web.Onward{})
		return
	}
	if _, err := p.startSession(ctx, w, r, person, []string{amrPassword}); err != nil {
		p.unavailable(w, r, err, web.Onward{})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
