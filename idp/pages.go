package idp

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sesame/internal/apps"
	"sesame/internal/i18n"
	"sesame/internal/store"
	"sesame/web"
)

// The provider's pages are web's: its templates (web/templates/login*.html)
// are rendered by the web.Renderer the provider is given, in the layout,
// language, header bar and security headers of the account pages, and its
// errors go through the renderer's one error function. What the provider
// adds is what the pages say about the service a request is for.

// loginPage is the data of login.html.
type loginPage struct {
	Request  string
	Username string
	Error    i18n.Message // why the last attempt failed
	Onward   web.Onward
	Passkey  *web.PasskeyForm // logging in with a passkey alone; nil when passkeys are off
}

// The form of the layout's "password-login" partial: where it posts, and
// its hidden field (the request it belongs to).
func (loginPage) FormAction() string  { return pathLogin }
func (loginPage) FormField() string   { return "req" }
func (l loginPage) FormValue() string { return l.Request }

// noAccessPage is the data of login_noaccess.html.
type noAccessPage struct {
	Username string // the account that is logged in
	Onward   web.Onward
}

// logoutPage asks a person to confirm a logout that no client vouched for.
type logoutPage struct {
	Params  map[string]string
	Service string // the service the logout comes from, when known
	Back    string // its base URL: "stay logged in" goes back there
}

// loggedOutPage says the person is logged out, with a link back to the
// service the logout came from when it is known.
type loggedOutPage struct {
	Service string
	Back    string // the service's base URL
}

// onward is what the pages say about svc (the zero Service: nothing): its
// name, its base URL when it is a safe link (the rules of redirect URIs),
// its structure's name and contact address.
func (p *Provider) onward(ctx context.Context, svc store.Service) web.Onward {
	if svc.ID == "" {
		return web.Onward{}
	}
	on := web.Onward{Service: svc.Name}
	if ValidateRedirectURI(svc.BaseURL) == nil {
		on.Back = svc.BaseURL
	}
	st, err := p.st.GetStructure(ctx, svc.StructureID)
	switch {
	case err == nil:
		on.Structure = st.Name
		if mailbox(st.Contact) {
			on.Contact = st.Contact
		}
	case !errors.Is(err, store.ErrNotFound):
		p.log.Warn("idp: structure of a page", "service", svc.ClientID, "err", err)
	}
	return on
}

// onwardFor is onward for the service of a client id ("": nothing).
func (p *Provider) onwardFor(ctx context.Context, clientID string) web.Onward {
	if clientID == "" {
		return web.Onward{}
	}
	svc, err := p.st.GetServiceByClientID(ctx, clientID)
	if err != nil {
		return web.Onward{}
	}
	return p.onward(ctx, svc)
}

// mailbox reports whether s can be the address of a mailto link.
func mailbox(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n<>\"'?&#%/\\:")
}

// local is the path of an endpoint on sesame's own site.
func (p *Provider) local(name string) string { return strings.TrimRight(p.path, "/") + "/" + name }

// authorizeURL is the address that makes ar's authorization request again
// with prompt (none given: ar's own prompt, "none" left out): the
// no-access page's "log in with another account" (prompt=login) and its
// language switch. It carries what the client sent (state, nonce, PKCE
// challenge, two factors asked for), so the code that ends it is the one
// the client waits for.
func (p *Provider) authorizeURL(ar store.AuthRequest, prompt ...string) string {
	v := url.Values{"client_id": {ar.ClientID}, "redirect_uri": {ar.RedirectURI}, "response_type": {"code"},
		"scope": {strings.Join(ar.Scopes, " ")}}
	for k, s := range map[string]string{"state": ar.State, "nonce": ar.Nonce, "code_challenge": ar.CodeChallenge,
		"code_challenge_method": ar.CodeChallengeMethod} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if ar.MaxAge >= 0 {
		v.Set("max_age", strconv.Itoa(ar.MaxAge))
	}
	if ar.RequireMFA {
		// The client asked for two factors (or the service requires them):
		// the request made again must too, else "another account" would
		// end in a code for a password alone.
		v.Set("acr_values", ACRTwoFactor)
	}
	if prompt == nil {
		for _, s := range ar.Prompt {
			if s != "none" {
				prompt = append(prompt, s)
			}
		}
	}
	if len(prompt) > 0 {
		v.Set("prompt", strings.Join(prompt, " "))
	}
	return p.local(pathAuthorize) + "?" + v.Encode()
}

// formOrigins are the origins the login form of a request for svc may be
// answered to: the redirect URI's (the code goes back there), and for
// WordPress the site's own (the detour past its 180-second state,
// apps.Kind.SiteFormOrigin).
func formOrigins(svc store.Service, redirectURI string) []string {
	out := []string{redirectURI}
	if apps.Of(svc).SiteFormOrigin && svc.BaseURL != "" {
		out = append(out, svc.BaseURL)
	}
	return out
}

// showLogin renders the login form of ar with status.
func (p *Provider) showLogin(w http.ResponseWriter, r *http.Request, status int, ar store.AuthRequest, svc store.Service,
	username string, problem i18n.Message) {
	on := p.onward(r.Context(), svc)
	title := i18n.M(i18n.LoginTitle)
	if svc.Name != "" {
		title = i18n.M(i18n.LoginTitleService, svc.Name)
	}
	p.rd.Render(w, r, status, "login", &web.Page{Title: title.Key, TitleArgs: title.Args, Structure: on.Structure,
		Here: p.local(pathLogin) + "?req=" + url.QueryEscape(ar.ID), FormOrigins: formOrigins(svc, ar.RedirectURI),
		Data: loginPage{Request: ar.ID, Username: username, Error: problem, Onward: on,
			Passkey: p.discoverForm(r, "login", map[string]string{"req": ar.ID})}})
}

// fail answers with web's error page, offering on's ways onward.
func (p *Provider) fail(w http.ResponseWriter, r *http.Request, err *web.Error, on web.Onward) {
	p.rd.WriteErrorWith(w, r, err, on)
}

// unavailable answers a failure of the store: 503, "try again in a
// moment"; err is logged, never shown.
func (p *Provider) unavailable(w http.ResponseWriter, r *http.Request, err error, on web.Onward) {
	p.fail(w, r, &web.Error{Code: web.EUnavailable, Err: err, RetryAfter: 2 * time.Second,
		Title: i18n.LoginUnavailableTitle, Message: i18n.M(i18n.LoginUnavailable)}, on)
}

// refuse answers 400 with a title and a sentence saying which request was
// refused and why; detail is logged.
func (p *Provider) refuse(w http.ResponseWriter, r *http.Request, title, msg i18n.Key, detail string, on web.Onward) {
	p.fail(w, r, &web.Error{Code: web.EInvalid, Err: errors.New("idp: " + detail), Title: title, Message: i18n.M(msg)}, on)
}

// badForm answers a form that web.ParseForm or web.ReadForm refused: 413
// (414 for a query) past web.MaxFormBytes, with nothing done; else 400
// with msg.
func (p *Provider) badForm(w http.ResponseWriter, r *http.Request, err error, msg i18n.Key) {
	if code := web.ErrorCode(err); code == web.ETooLarge || code == web.EURITooLong {
		p.fail(w, r, &web.Error{Code: code, Err: err}, web.Onward{})
		return
	}
	p.fail(w, r, &web.Error{Code: web.EInvalid, Err: err, Title: i18n.LoginMalformedTitle, Message: i18n.M(msg)}, web.Onward{})
}

// tooMany answers 429 to a client address that asks too often.
func (p *Provider) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration, detail string, on web.Onward) {
	p.fail(w, r, &web.Error{Code: web.ETooMany, RetryAfter: wait, Err: errors.New("idp: " + detail),
		Title: i18n.LoginTooManyTitle, Message: i18n.M(i18n.LoginTooManyRequests, i18n.Minutes(int(math.Ceil(wait.Minutes()))))}, on)
}
