package idp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"sesame/internal/store"
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
	if r.Method == http.MethodPost {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			p.message(w, http.StatusBadRequest, "Requête invalide", "La demande de déconnexion est mal formée.", "The logout request is malformed.")
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
	var hintSub, hintSID string
	if hint := q.Get("id_token_hint"); hint != "" {
		// An expired hint is still a hint: WordPress sends the login's.
		claims, err := p.verify(hint, "", true)
		if err != nil {
			p.message(w, http.StatusBadRequest, "Déconnexion refusée", "Le jeton fourni n'a pas été émis par sesame.", "The token sent was not issued by sesame.")
			return
		}
		aud := audiences(claims)
		if clientID != "" && !slices.Contains(aud, clientID) {
			p.message(w, http.StatusBadRequest, "Déconnexion refusée", "Le jeton fourni a été émis pour un autre service.", "The token sent was issued to another service.")
			return
		}
		if clientID == "" && len(aud) > 0 {
			clientID = aud[0]
		}
		hintSub, _ = claims["sub"].(string)
		hintSID, _ = claims["sid"].(string)
	}
	redirect := q.Get("post_logout_redirect_uri")
	if redirect != "" {
		svc, err := p.st.GetServiceByClientID(ctx, clientID)
		if clientID == "" || err != nil || !slices.Contains(svc.PostLogoutURIs, redirect) {
			p.message(w, http.StatusBadRequest, "Adresse de retour refusée",
				"L'adresse de retour après déconnexion n'est pas enregistrée pour ce service.",
				"The post-logout redirect URI is not registered for this service.")
			return
		}
	}
	// Without a hint, a plain link could log anyone out (logout CSRF): ask
	// first, and act only on the confirmation posted from sesame's own page.
	if c, err := r.Cookie(sessionCookie); q.Get("id_token_hint") == "" && err == nil && c.Value != "" &&
		!(r.Method == http.MethodPost && q.Get("confirm") == "1" && p.sameOrigin.Check(r) == nil) {
		params := map[string]string{}
		for _, k := range []string{"post_logout_redirect_uri", "client_id", "state"} {
			if v := q.Get(k); v != "" {
				params[k] = v
			}
		}
		render(w, http.StatusOK, "login_logout.html", logoutPage{Params: params})
		return
	}
	// End the browser's session; with a hint naming another person's
	// session, only that person's session named by sid is ended.
	var ended []store.SSOSession
	err := p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		ended = nil
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			s, err := tx.GetSSOSession(ctx, sha(c.Value))
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			case hintSub != "" && s.PersonID != hintSub:
				// The hint is about someone else: leave this session alone.
			default:
				if _, err := tx.DeleteSSOSession(ctx, s.Hash); err != nil {
					return err
				}
				ended = append(ended, s)
			}
		}
		if len(ended) == 0 && hintSID != "" {
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
		return nil
	})
	if err != nil {
		p.log.Error("idp: logout", "err", err)
		p.message(w, http.StatusServiceUnavailable, "Service indisponible", "Réessayez dans un instant.", "Try again in a moment.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: p.path, HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	p.backchannel(ended)
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
	p.message(w, http.StatusOK, "Vous êtes déconnecté", "Vous êtes maintenant déconnecté de sesame.", "You are now logged out of sesame.")
}

// EndAllSessions ends every SSO session of a person and revokes their
// tokens (call it when a person is disabled); the clients of those sessions
// get a back-channel logout.
func (p *Provider) EndAllSessions(ctx context.Context, personID string) error {
	var ended []store.SSOSession
	err := p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if ended, err = tx.DeletePersonSSOSessions(ctx, personID); err != nil {
			return err
		}
		_, err = tx.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{PersonID: personID}, p.now())
		return err
	})
	if err != nil {
		return err
	}
	p.backchannel(ended)
	return nil
}

// backchannel sends a logout token to every client of the ended sessions
// that registered a back-channel URI, in the background (Wait waits for
// them). Failures are logged: the client's own session times out.
func (p *Provider) backchannel(ended []store.SSOSession) {
	for _, s := range ended {
		for _, clientID := range s.Clients {
			svc, err := p.st.GetServiceByClientID(context.Background(), clientID)
			if err != nil || svc.BackchannelLogoutURI == "" {
				continue
			}
			now := p.now()
			token, _, err := p.sign(p.alg(svc), "logout+jwt", map[string]any{
				"iss": p.issuer, "aud": svc.ClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
				"jti": randomID(16), "sub": s.PersonID, "sid": s.SID,
				"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
			})
			if err != nil {
				p.log.Error("idp: sign logout token", "err", err)
				continue
			}
			p.bcWG.Add(1)
			go func(uri string) {
				defer p.bcWG.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
				if err != nil {
					p.log.Error("idp: back-channel logout", "uri", uri, "err", err)
					return
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := p.cfg.HTTPClient.Do(req)
				if err != nil {
					p.log.Warn("idp: back-channel logout failed", "uri", uri, "err", err)
					return
				}
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
				_ = resp.Body.Close()
				if resp.StatusCode >= 300 {
					p.log.Warn("idp: back-channel logout refused", "uri", uri, "status", resp.StatusCode)
				}
			}(svc.BackchannelLogoutURI)
		}
	}
}

// logoutPage asks a person to confirm a logout that no client vouched for.
type logoutPage struct {
	Params map[string]string
}
