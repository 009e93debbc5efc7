package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/internal/apps"
	"sesame/internal/i18n"
	"sesame/internal/jobs"
	"sesame/internal/netguard"
	"sesame/internal/store"
	"sesame/web"
)

// logoutParams are the end-session parameters sesame reads.
var logoutParams = []string{"id_token_hint", "post_logout_redirect_uri", "client_id", "state", "ui_locales", "logout_hint", "confirm"}

// parseLenient reads a query or form body whose values may not be
// URL-encoded (Nextcloud sends post_logout_redirect_uri raw, with its own
// "?" and "&"): a new parameter starts only at "&name=" for a name sesame
// knows; anything else belongs to the value before it. Values are then
// unescaped when they decode cleanly, else kept as sent.
func parseLenient(raw string) url.Values {
	out := url.Values{}
	var key string
	var val strings.Builder
	flush := func() {
		if key == "" {
			return
		}
		v := val.String()
		if d, err := url.QueryUnescape(v); err == nil {
			v = d
		}
		if !out.Has(key) {
			out.Set(key, v)
		}
	}
	for _, part := range strings.Split(raw, "&") {
		name, value, _ := strings.Cut(part, "=")
		if slices.Contains(logoutParams, name) {
			flush()
			key = name
			val.Reset()
			val.WriteString(value)
			continue
		}
		if key != "" {
			val.WriteString("&" + part)
		}
	}
	flush()
	return out
}

func (p *Provider) handleLogout(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.RawQuery
	if len(raw) > web.MaxFormBytes {
		p.badForm(w, r, web.ErrQueryTooLong, i18n.LogoutMalformed)
		return
	}
	if r.Method == http.MethodPost {
		b, err := web.ReadForm(w, r)
		if err != nil {
			p.badForm(w, r, err, i18n.LogoutMalformed)
			return
		}
		if len(b) > 0 {
			raw = string(b)
		}
	} else if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := parseLenient(raw)
	ctx := r.Context()
	clientID := q.Get("client_id")
	var hintSub, hintSID, initiator string
	hintFresh := false
	if hint := q.Get("id_token_hint"); hint != "" {
		// An expired hint is still a hint: WordPress sends the login's. It
		// must be an ID token (not an access or logout token).
		claims, err := p.verify(hint, "JWT", true)
		if err != nil {
			p.refuse(w, r, i18n.LogoutRefusedTitle, i18n.LogoutForeignToken, "logout: id_token_hint: "+err.Error(), web.Onward{})
			return
		}
		aud := claims.Audience
		if clientID != "" && !slices.Contains(aud, clientID) {
			p.refuse(w, r, i18n.LogoutRefusedTitle, i18n.LogoutOtherClient, "logout: id_token_hint for another client", web.Onward{})
			return
		}
		if clientID == "" && len(aud) > 0 {
			clientID = aud[0]
		}
		hintSub, hintSID, hintFresh = claims.Subject, claims.SessionID, claims.fresh(p.now())
		// The client that sent its own ID token has ended its session
		// already (Nextcloud's user_oidc deletes it before redirecting
		// here, and answers a back-channel logout for it with 400).
		initiator = clientID
	}
	// The service the logout comes from, when it can be told: its return
	// addresses, and the link back to it on sesame's own page.
	var svc store.Service
	if clientID != "" {
		var err error
		svc, err = p.st.GetServiceByClientID(ctx, clientID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			p.unavailable(w, r, fmt.Errorf("idp: logout: client lookup: %w", err), web.Onward{})
			return
		}
	}
	on := p.onward(ctx, svc)
	redirect := q.Get("post_logout_redirect_uri")
	if redirect != "" && !postLogoutAllowed(svc, redirect) {
		// A return address that is not registered is never followed. A
		// hint signed for the person whose session this browser holds
		// still ends that session (WordPress sends its own locale in the
		// address, and themes their own pages): sesame's page then says
		// so. Anyone else gets the refusal, and nothing ends.
		vouched, err := p.hintNamesBrowserSession(ctx, r, hintSub)
		if err != nil {
			p.unavailable(w, r, fmt.Errorf("idp: logout: session lookup: %w", err), on)
			return
		}
		if !vouched {
			p.refuse(w, r, i18n.LoginBadRedirectTitle, i18n.LogoutBadRedirect,
				"logout: unregistered post_logout_redirect_uri "+strconv.Quote(redirect), on)
			return
		}
		p.log.Info("idp: logout with an unregistered return address: the session ends, no redirect",
			"client_id", clientID, "post_logout_redirect_uri", redirect)
		redirect = ""
	}
	// Without a hint, a plain link could log anyone out (logout CSRF): ask
	// first, and act only on the confirmation posted from sesame's own page.
	if c, err := r.Cookie(p.cookieSSO); q.Get("id_token_hint") == "" && err == nil && c.Value != "" &&
		!(r.Method == http.MethodPost && q.Get("confirm") == "1" && p.sameOrigin.Check(r) == nil) {
		params := map[string]string{}
		for _, k := range []string{"post_logout_redirect_uri", "client_id", "state"} {
			if v := q.Get(k); v != "" {
				params[k] = v
			}
		}
		var origins []string
		if redirect != "" {
			origins = []string{redirect} // the confirmation is answered by a redirect there
		}
		p.rd.Render(w, r, http.StatusOK, "login_logout", &web.Page{Title: i18n.LogoutTitle, Structure: on.Structure,
			FormOrigins: origins, Data: logoutPage{Params: params, Service: on.Service, Back: on.Back}})
		return
	}
	// End the browser's session. Without it (another browser, or a cookie
	// already gone), a hint still ends the session its sid names, but only
	// while the hint is fresh: an old ID token found in a log must not let
	// anyone log a person out. The session's tokens are revoked with it.
	var ended []store.SSOSession
	keepCookie := false
	err := p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		ended, keepCookie = nil, false
		if c, err := r.Cookie(p.cookieSSO); err == nil && c.Value != "" {
			s, err := tx.GetSSOSession(ctx, sha(c.Value))
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			case hintSub != "" && s.PersonID != hintSub:
				// The hint is about someone else: leave this session, and
				// its cookie, alone.
				keepCookie = true
			default:
				if _, err := tx.DeleteSSOSession(ctx, s.Hash); err != nil {
					return err
				}
				ended = append(ended, s)
			}
		}
		if len(ended) == 0 && hintSID != "" && hintFresh {
			s, err := tx.GetSSOSessionBySID(ctx, hintSID)
			if err == nil && s.PersonID == hintSub {
				if _, err := tx.DeleteSSOSession(ctx, s.Hash); err != nil {
					return err
				}
				ended = append(ended, s)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		for _, s := range ended {
			if _, err := tx.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{SID: s.SID}, p.now()); err != nil {
				return err
			}
		}
		return queueBackchannel(ctx, tx, ended, initiator)
	})
	if err != nil {
		p.unavailable(w, r, fmt.Errorf("idp: logout: %w", err), on)
		return
	}
	if !keepCookie {
		http.SetCookie(w, &http.Cookie{Name: p.cookieSSO, Value: "", Path: p.path, HttpOnly: true, Secure: p.secure,
			SameSite: http.SameSiteLaxMode, MaxAge: -1})
	}
	if redirect != "" {
		v := url.Values{}
		if s := q.Get("state"); s != "" {
			v.Set("state", s)
		}
		to := redirect
		if len(v) > 0 {
			to = appendQuery(redirect, v)
		}
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	// The language switch shows this page again: a logout naming only the
	// client, which ends nothing more (the hint is not repeated in a link).
	here := p.local(pathLogout)
	if svc.ID != "" {
		here += "?client_id=" + url.QueryEscape(svc.ClientID)
	}
	page := loggedOutPage{}
	if on.Back != "" {
		page.Service, page.Back = on.Service, on.Back
	}
	p.rd.Render(w, r, http.StatusOK, "login_loggedout", &web.Page{Title: i18n.LoggedOutTitle, Structure: on.Structure,
		Here: here, Data: page})
}

// hintNamesBrowserSession reports whether sub, the subject of a verified
// id_token_hint, is the person whose SSO session the browser's cookie
// holds: the hint was then signed by sesame for this very person, in this
// browser (its sid may be older: a WordPress session outlives sesame's
// idle timeout, and the sid changes when the person logs in again after a
// logout).
func (p *Provider) hintNamesBrowserSession(ctx context.Context, r *http.Request, sub string) (bool, error) {
	c, err := r.Cookie(p.cookieSSO)
	if sub == "" || err != nil || c.Value == "" {
		return false, nil
	}
	s, err := p.st.GetSSOSession(ctx, sha(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.PersonID == sub, nil
}

// postLogoutAllowed reports whether the service may send people to uri
// after logout: one of its registered post-logout URIs, byte for byte, or
// an address its kind accepts besides (WordPress's own return address with
// another locale, apps.WordPressLogoutURI).
func postLogoutAllowed(svc store.Service, uri string) bool {
	if svc.ID == "" || uri == "" {
		return false
	}
	if slices.Contains(svc.PostLogoutURIs, uri) {
		return true
	}
	k := apps.Of(svc)
	return k.PostLogoutAllowed != nil && k.PostLogoutAllowed(svc.PostLogoutURIs, uri)
}

// EndAllSessions ends every SSO session of a person and revokes their
// tokens (call it when a person is disabled); the clients of those sessions
// get a back-channel logout (a job queued in the same transaction).
func (p *Provider) EndAllSessions(ctx context.Context, personID string) error {
	return p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		ended, err := tx.DeletePersonSSOSessions(ctx, personID)
		if err != nil {
			return err
		}
		if _, err := tx.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{PersonID: personID}, p.now()); err != nil {
			return err
		}
		return queueBackchannel(ctx, tx, ended, "")
	})
}

// backchannelAttempts bounds the deliveries of one back-channel logout:
// with the runner's backoff (from 10 s, doubling) the last try comes about
// twenty minutes after the logout. A client that stays down longer keeps
// its own session until that session's timeout.
const backchannelAttempts = 8

// queueBackchannel enqueues, in the transaction that ended the sessions, a
// back-channel logout for every client of those sessions that registered a
// URI: the logouts survive a restart and a client that is down for a while.
// skip, when not empty, is the client that initiated the logout with its
// own ID token as hint: it gets none.
func queueBackchannel(ctx context.Context, tx store.Tx, ended []store.SSOSession, skip string) error {
	for _, s := range ended {
		for _, clientID := range s.Clients {
			if skip != "" && clientID == skip {
				continue
			}
			svc, err := tx.GetServiceByClientID(ctx, clientID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if svc.BackchannelLogoutURI == "" {
				continue
			}
			b, err := json.Marshal(jobs.BackchannelLogout{ClientID: clientID, PersonID: s.PersonID, SID: s.SID})
			if err != nil {
				return err
			}
			if _, err := tx.EnqueueJob(ctx, &store.Job{Kind: jobs.KindOIDCBackchannelLogout, Payload: b,
				MaxAttempts: backchannelAttempts}); err != nil {
				return fmt.Errorf("idp: queue back-channel logout: %w", err)
			}
		}
	}
	return nil
}

// Register registers the provider's job handlers (back-channel logout, end
// of a disabled person's sessions) on r.
func (p *Provider) Register(r *jobs.Runner) {
	r.Handle(jobs.KindOIDCBackchannelLogout, p.deliverBackchannel)
	r.Handle(jobs.KindOIDCEndSessions, p.endSessionsJob)
}

// endSessionsJob ends the sessions of a person disabled elsewhere (an
// import). A person enabled again since keeps their new sessions.
func (p *Provider) endSessionsJob(ctx context.Context, j store.Job) error {
	var ref jobs.PersonRef
	if err := json.Unmarshal(j.Payload, &ref); err != nil {
		return jobs.Permanent(fmt.Errorf("idp: end-sessions payload: %w", err))
	}
	person, err := p.st.GetPerson(ctx, ref.PersonID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if person.State != store.StateDisabled {
		return nil
	}
	return p.EndAllSessions(ctx, person.ID)
}

// deliverBackchannel posts one logout token, signed now (so a retry carries
// a fresh iat, exp and jti). A 2xx ends the job; no answer, 400 (the spec's
// "logout failed"), 408, 429 and 5xx are retried, except a refusal the
// client's kind reads as "no such session" (apps.Kind.BackchannelNoSession:
// nothing is left to end); any other status (a wrong URI, a redirect) is
// final. For a service whose address a referent gave, it connects through
// GuardedHTTPClient: an address that resolves to an internal network now
// is refused, finally (netguard.ErrInternal), until a hoster confirms the
// address.
func (p *Provider) deliverBackchannel(ctx context.Context, j store.Job) error {
	var bl jobs.BackchannelLogout
	if err := json.Unmarshal(j.Payload, &bl); err != nil {
		return jobs.Permanent(fmt.Errorf("idp: back-channel payload: %w", err))
	}
	svc, err := p.st.GetServiceByClientID(ctx, bl.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the service is gone, and its sessions with it
	}
	if err != nil {
		return err
	}
	uri := svc.BackchannelLogoutURI
	if uri == "" {
		return nil // unregistered since
	}
	now := p.now()
	token, _, err := p.sign(p.alg(svc), "logout+jwt", logoutClaims{
		Issuer: p.issuer, Audience: svc.ClientID, IssuedAt: now.Unix(), Expiry: now.Add(2 * time.Minute).Unix(),
		ID: randomID(16), Subject: bl.PersonID, SessionID: bl.SID,
		Events: map[string]struct{}{"http://schemas.openid.net/event/backchannel-logout": {}},
	})
	if err != nil {
		return fmt.Errorf("idp: sign logout token: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return jobs.Permanent(fmt.Errorf("idp: back-channel logout URI %q: %w", uri, err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := p.cfg.HTTPClient
	if svc.ReferentAddress {
		client = p.cfg.GuardedHTTPClient
	}
	resp, err := client.Do(req)
	if errors.Is(err, netguard.ErrInternal) {
		return jobs.Permanent(fmt.Errorf("idp: back-channel logout to %s: %w", uri, netguard.ErrInternal))
	}
	if err != nil {
		return fmt.Errorf("idp: back-channel logout to %s: %w", uri, err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	k := apps.Of(svc)
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		p.log.Info("idp: back-channel logout delivered", "client_id", svc.ClientID, "sid", bl.SID)
		return nil
	case k.BackchannelNoSession != nil && k.BackchannelNoSession(c, answer):
		p.log.Info("idp: back-channel logout: the client holds no session for it", "client_id", svc.ClientID, "sid", bl.SID)
		return nil
	case c == http.StatusBadRequest, c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
		return fmt.Errorf("idp: back-channel logout to %s: status %d", uri, c)
	default:
		return jobs.Permanent(fmt.Errorf("idp: back-channel logout to %s: status %d", uri, c))
	}
}
