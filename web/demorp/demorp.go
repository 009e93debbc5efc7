package demorp

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Path is where the relying party is mounted: its page is Path, its
// redirect URI Path+"callback".
const Path = "/demo/"

//go:embed templates/page.html
var templatesFS embed.FS

var page = template.Must(template.ParseFS(templatesFS, "templates/page.html"))

// stateCookie carries the state, nonce and PKCE verifier of a login in
// progress, from /demo/login to /demo/callback.
const stateCookie = "sesame_demorp"

// RP is the demonstration relying party. Its fields are set before Mount;
// the provider's discovery document is read on first use (the server that
// publishes it is usually the one RP is mounted in, not yet listening when
// RP is built), and again after a failure.
type RP struct {
	// Issuer is sesame's public URL, the OpenID Connect issuer.
	Issuer string
	// BaseURL is the public URL of the mount point, without its slash,
	// e.g. http://127.0.0.1:8080/demo.
	BaseURL      string
	ClientID     string
	ClientSecret string
	// HTTPClient talks to the provider (discovery, keys, token endpoint);
	// nil means http.DefaultClient.
	HTTPClient *http.Client
	Logger     *slog.Logger

	mu       sync.Mutex
	provider *oidc.Provider
}

// RedirectURI is the URI sesame must have registered for the client.
func (rp *RP) RedirectURI() string { return rp.BaseURL + "/callback" }

// PostLogoutURI is where sesame sends the person back after logging out.
func (rp *RP) PostLogoutURI() string { return rp.BaseURL + "/" }

// Mount registers the relying party's pages on mux under Path.
func (rp *RP) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Path+"{$}", rp.home)
	mux.HandleFunc("GET "+Path+"login", rp.login)
	mux.HandleFunc("GET "+Path+"callback", rp.callback)
}

func (rp *RP) ctx(r *http.Request) context.Context {
	if rp.HTTPClient == nil {
		return r.Context()
	}
	return oidc.ClientContext(r.Context(), rp.HTTPClient)
}

// config discovers the provider on first use and returns the client's
// configuration and the ID token verifier.
func (rp *RP) config(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, *oidc.Provider, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.provider == nil {
		p, err := oidc.NewProvider(ctx, rp.Issuer)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("demorp: discovery at %s: %w", rp.Issuer, err)
		}
		rp.provider = p
	}
	ep := rp.provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader // client_secret_basic, a generic client's default
	conf := &oauth2.Config{ClientID: rp.ClientID, ClientSecret: rp.ClientSecret, Endpoint: ep,
		RedirectURL: rp.RedirectURI(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	return conf, rp.provider.Verifier(&oidc.Config{ClientID: rp.ClientID}), rp.provider, nil
}

// view is what the page shows: the welcome (no claims, no error), the
// claims, or an error.
type view struct {
	Title          string
	Home, Login    string
	Logout         string
	Claims         []claim
	Error, ErrorEN string
	status         int
}

type claim struct{ Name, Value string }

func (rp *RP) render(w http.ResponseWriter, v view) {
	if v.Title == "" {
		v.Title = "Service de démonstration — sesame"
	}
	v.Home, v.Login = Path, Path+"login"
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if v.status != 0 {
		w.WriteHeader(v.status)
	}
	if err := page.Execute(w, v); err != nil && rp.Logger != nil {
		rp.Logger.Error("demorp: render", "err", err)
	}
}

// fail shows an error page and logs the internal reason.
func (rp *RP) fail(w http.ResponseWriter, status int, fr, en string, err error) {
	if rp.Logger != nil {
		rp.Logger.Warn("demorp: login failed", "err", err)
	}
	rp.render(w, view{Title: "Échec de la connexion — sesame", Error: fr, ErrorEN: en, status: status})
}

func (rp *RP) home(w http.ResponseWriter, _ *http.Request) { rp.render(w, view{}) }

// login starts the code flow: a fresh state, nonce and PKCE verifier, kept
// in a short-lived cookie, then the redirect to sesame.
func (rp *RP) login(w http.ResponseWriter, r *http.Request) {
	conf, _, _, err := rp.config(rp.ctx(r))
	if err != nil {
		rp.fail(w, http.StatusBadGateway, "sesame ne répond pas.", "sesame does not answer.", err)
		return
	}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state + "." + nonce + "." + verifier,
		Path: Path, MaxAge: int((10 * time.Minute).Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(rp.BaseURL, "https://")})
	http.Redirect(w, r, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// callback checks the state, exchanges the code, verifies the ID token and
// its nonce, and shows the token's claims.
func (rp *RP) callback(w http.ResponseWriter, r *http.Request) {
	ctx := rp.ctx(r)
	q := r.URL.Query()
	c, err := r.Cookie(stateCookie)
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Path: Path, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	var parts []string
	if err == nil {
		parts = strings.Split(c.Value, ".")
	}
	switch {
	case q.Get("error") != "":
		code := q.Get("error") // an OAuth error code, shown only when it looks like one
		if len(code) > 40 || strings.Trim(code, "abcdefghijklmnopqrstuvwxyz_") != "" {
			code = "?"
		}
		rp.fail(w, http.StatusForbidden, "sesame a refusé la connexion : "+code+".",
			"sesame refused the login: "+code+".", errors.New(q.Get("error")+": "+q.Get("error_description")))
		return
	case len(parts) != 3 || q.Get("state") == "" || q.Get("state") != parts[0]:
		rp.fail(w, http.StatusBadRequest, "Cette réponse ne correspond à aucune connexion en cours.",
			"This answer matches no login in progress.", errors.New("state missing or mismatched"))
		return
	}
	nonce, verifier := parts[1], parts[2]
	conf, verify, _, err := rp.config(ctx)
	if err != nil {
		rp.fail(w, http.StatusBadGateway, "sesame ne répond pas.", "sesame does not answer.", err)
		return
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		rp.fail(w, http.StatusBadGateway, "Le code n'a pas pu être échangé contre un jeton.",
			"The code could not be exchanged for a token.", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verify.Verify(ctx, raw)
	if err == nil && idt.Nonce != nonce {
		err = errors.New("nonce mismatch")
	}
	if err != nil {
		rp.fail(w, http.StatusBadGateway, "Le jeton d'identité reçu n'est pas valable.",
			"The ID token received is not valid.", err)
		return
	}
	var all map[string]json.RawMessage
	if err := idt.Claims(&all); err != nil {
		rp.fail(w, http.StatusBadGateway, "Le jeton d'identité reçu n'est pas lisible.",
			"The ID token received cannot be read.", err)
		return
	}
	logout := url.Values{"client_id": {rp.ClientID}, "id_token_hint": {raw},
		"post_logout_redirect_uri": {rp.PostLogoutURI()}}
	rp.render(w, view{Title: "Connecté·e — service de démonstration", Claims: claims(all),
		Logout: strings.TrimRight(rp.Issuer, "/") + "/logout?" + logout.Encode()})
}

// claims lists the claims by name, each value as it reads in the token
// (strings unquoted, times also as dates).
func claims(all map[string]json.RawMessage) []claim {
	out := make([]claim, 0, len(all))
	for name, raw := range all {
		v := string(raw)
		var s string
		var n float64
		switch {
		case json.Unmarshal(raw, &s) == nil:
			v = s
		case (name == "exp" || name == "iat" || name == "auth_time") && json.Unmarshal(raw, &n) == nil:
			v += " (" + time.Unix(int64(n), 0).UTC().Format(time.RFC3339) + ")"
		}
		out = append(out, claim{Name: name, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// random is a fresh value for a state or a nonce.
func random() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}
