package idp

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/mfa"
	"sesame/internal/netguard"
	"sesame/internal/password"
	"sesame/internal/secretbox"
	"sesame/internal/store"
	"sesame/web"
)

// Config is what the provider needs. Zero durations take the defaults
// documented on each field.
type Config struct {
	// Issuer is the public URL (the configuration's public_url), without a
	// trailing slash; every endpoint hangs under it.
	Issuer    string
	Store     store.Store
	Hasher    *password.Hasher
	MasterKey []byte // 32 bytes; encrypts the signing keys
	Logger    *slog.Logger
	Now       func() time.Time
	// HTTPClient sends back-channel logout requests (jobs run by the runner
	// the provider is Registered on). Default: a client with a 5 s timeout
	// that does not follow redirects.
	HTTPClient *http.Client
	// GuardedHTTPClient sends them instead for a service whose address a
	// referent gave (store.Service.ReferentAddress): it must refuse to
	// connect to an internal network, after resolution (netguard), and use
	// no proxy. Default: netguard.Client, with HTTPClient's timeout, that
	// does not follow redirects.
	GuardedHTTPClient *http.Client

	AuthRequestTTL time.Duration // default 30 min
	CodeTTL        time.Duration // default 60 s
	AccessTTL      time.Duration // access and ID tokens; default 1 h
	RefreshTTL     time.Duration // a family's lifetime; default 30 days
	SessionIdle    time.Duration // default 8 h
	SessionMax     time.Duration // default 7 days
	// KeyReload is how often the key set is re-read from the store, so a
	// rotation made by the CLI is published. Default 1 min.
	KeyReload time.Duration
	// RSABits is the size of RSA keys made at start; default 2048.
	RSABits int
	// LoginLimiter, when set, bounds failed password attempts per client
	// address (keyed by web.ClientKey: IPv6 per /64, as the account pages
	// count) and per account (web.RateLimiter fits); a
	// successful login spends nothing. ClientIP names the client of a
	// request (web.ClientIPFrom reads X-Forwarded-For from trusted
	// proxies); default: the host of RemoteAddr.
	LoginLimiter Limiter
	ClientIP     func(*http.Request) string
	// Renderer renders the provider's pages (web/templates/login*.html)
	// and its error pages, the account pages' renderer in the server;
	// default: a renderer of web's embedded templates.
	Renderer *web.Renderer
	// AuthorizeLimiter, when set, bounds how fast one client address
	// (web.ClientKey: IPv6 by /64) makes the provider store authorization requests: each is
	// kept 30 minutes, and client ids and redirect URIs are public.
	AuthorizeLimiter Limiter
	// MaxLoginsInProgress bounds the password forms (login and sign-in)
	// handled at once; one more, or one that finds the hasher saturated
	// (password.Hasher.Saturated), is answered 503 with Retry-After at
	// once, before its body is read or the store asked. Default: four per
	// hash slot, at least 8.
	MaxLoginsInProgress int

	// AdminMFAPolicy is the hoster admins' second-factor policy; the
	// default (empty) is required. Structures set their people's.
	AdminMFAPolicy store.MFAPolicy
	// MFAGrace is how long someone newly required to enrol a second
	// factor may put it off at login; default 14 days.
	MFAGrace time.Duration
	// Location is where dates shown to people are written; default
	// Europe/Paris.
	Location *time.Location
	// MFA seals TOTP secrets and enrolments; default: made from
	// MasterKey. Passkeys, when set, lets people log in with a passkey
	// and enrol one (nil: passkeys off).
	MFA      *mfa.Secrets
	Passkeys *mfa.Passkeys
}

// Limiter is a rate limiter keyed by a string: Check looks, Allow spends.
type Limiter interface {
	Check(key string) (bool, time.Duration)
	Allow(key string) (bool, time.Duration)
}

// Cookie names.
const (
	sessionCookie = "sesame_sso"
	browserCookie = "sesame_browser"
)

// Provider is the OpenID Connect provider. Build it with New, serve it with
// Mount.
type Provider struct {
	cfg    Config
	st     store.Store
	rd     *web.Renderer
	keys   keySet
	cipher *keyCipher
	log    *slog.Logger
	issuer string
	secure bool // cookies get Secure
	path   string
	// sameOrigin accepts only requests made from sesame's own pages (the
	// logout confirmation).
	sameOrigin *http.CrossOriginProtection
	discover   []byte

	// logins holds a token per password form being handled
	// (MaxLoginsInProgress).
	logins chan struct{}
	// loginsBusy is the 503 those past the bound receive: rendered once,
	// logged once a second (a burst brings thousands).
	loginsBusy *web.CannedError

	// codeLocks serializes each person's second-factor attempts (see
	// codeAllowed).
	codeLocks keyLocks
	// loginLocks serializes the password attempts on each account (see
	// tryPassword).
	loginLocks keyLocks

	secretCache sync.Map // client id + secret digest + PHC -> struct{}
	// The cookies' names: with the __Host- prefix when the issuer is https
	// at the root, so that no sibling subdomain can set or shadow them.
	cookieSSO, cookieBrowser, cookieStep string

	// secrets seals TOTP secrets and enrolments; stepBox the cookie of a
	// login between its password and its second factor.
	secrets  *mfa.Secrets
	stepBox  *secretbox.Box
	passkeys *mfa.Passkeys // nil: passkeys off
}

// New loads (creating them when absent) the signing keys and returns the
// provider.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Store == nil || cfg.Hasher == nil {
		return nil, errors.New("idp: Store and Hasher are required")
	}
	u, err := url.Parse(strings.TrimRight(cfg.Issuer, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("idp: issuer %q is not an absolute http(s) URL without query", cfg.Issuer)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.AuthRequestTTL, 30*time.Minute)
	def(&cfg.CodeTTL, time.Minute)
	def(&cfg.AccessTTL, time.Hour)
	def(&cfg.RefreshTTL, 30*24*time.Hour)
	def(&cfg.SessionIdle, 8*time.Hour)
	def(&cfg.SessionMax, 7*24*time.Hour)
	def(&cfg.KeyReload, time.Minute)
	def(&cfg.MFAGrace, 14*24*time.Hour)
	if cfg.Location == nil {
		if cfg.Location, err = time.LoadLocation("Europe/Paris"); err != nil {
			return nil, fmt.Errorf("idp: %w", err)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		// Back-channel logouts are posted where the client registered,
		// never to where a redirect points.
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.GuardedHTTPClient == nil {
		cfg.GuardedHTTPClient = netguard.Client(cfg.HTTPClient.Timeout)
	}
	c, err := newKeyCipher(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, st: cfg.Store, rd: cfg.Renderer, cipher: c, log: cfg.Logger, issuer: u.String(), secure: u.Scheme == "https", path: u.Path}
	p.secrets, p.passkeys = cfg.MFA, cfg.Passkeys
	if p.secrets == nil {
		if p.secrets, err = mfa.NewSecrets(cfg.MasterKey); err != nil {
			return nil, fmt.Errorf("idp: %w", err)
		}
	}
	if p.stepBox, err = secretbox.New(cfg.MasterKey, "login step v1"); err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	if p.rd == nil {
		if p.rd, err = web.NewRenderer(nil, cfg.Logger); err != nil {
			return nil, fmt.Errorf("idp: %w", err)
		}
		p.rd.SecureCookies = p.secure
	}
	if p.path == "" {
		p.path = "/"
	}
	p.cookieSSO, p.cookieBrowser, p.cookieStep = sessionCookie, browserCookie, stepCookie
	if p.secure && p.path == "/" {
		p.cookieSSO, p.cookieBrowser, p.cookieStep = "__Host-"+sessionCookie, "__Host-"+browserCookie, "__Host-"+stepCookie
	}
	logins := cfg.MaxLoginsInProgress
	if logins <= 0 {
		logins = max(8, 4*cfg.Hasher.Stats().Slots)
	}
	p.logins = make(chan struct{}, logins)
	p.loginsBusy = p.rd.Canned(&web.Error{Code: web.EUnavailable, Err: errLoginsBusy, RetryAfter: 2 * time.Second,
		Title: i18n.LoginUnavailableTitle, Message: i18n.M(i18n.LoginBusy)}, web.Onward{})
	p.sameOrigin = http.NewCrossOriginProtection()
	if err := p.sameOrigin.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
		return nil, fmt.Errorf("idp: issuer origin: %w", err)
	}
	if err := p.km().Ensure(ctx); err != nil {
		return nil, err
	}
	if err := p.ReloadKeys(ctx); err != nil {
		return nil, err
	}
	p.discover, err = json.Marshal(p.discovery())
	if err != nil {
		return nil, fmt.Errorf("idp: discovery: %w", err)
	}
	return p, nil
}

func (p *Provider) km() *KeyManager {
	return &KeyManager{Store: p.st, MasterKey: p.cfg.MasterKey, Now: p.cfg.Now, RSABits: p.cfg.RSABits}
}

func (p *Provider) now() time.Time { return p.cfg.Now().UTC() }

// ReloadKeys re-reads the signing keys from the store.
func (p *Provider) ReloadKeys(ctx context.Context) error {
	stored, err := p.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("idp: list keys: %w", err)
	}
	return p.keys.load(p.cipher, stored, p.now())
}

// Run reloads the keys every KeyReload and purges expired rows, until ctx
// ends. Errors are logged, except those of a pass that ctx's end cut
// short (a shutdown during a reload is no failure).
func (p *Provider) Run(ctx context.Context) {
	t := time.NewTicker(p.cfg.KeyReload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.ReloadKeys(ctx); err != nil && ctx.Err() == nil {
				p.log.Error("idp: reload keys", "err", err)
			}
			// Codes are kept a day past expiry so a late replay still revokes.
			if _, err := p.st.DeleteExpiredOIDC(ctx, p.now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
				p.log.Error("idp: purge expired", "err", err)
			}
		}
	}
}

func (p *Provider) endpoint(name string) string { return p.issuer + "/" + name }

// Endpoint paths, relative to the issuer.
const (
	pathAuthorize = "authorize"
	pathLogin     = "login"
	pathToken     = "token"
	pathUserinfo  = "userinfo"
	pathJWKS      = "jwks"
	pathLogout    = "logout"
	pathDiscovery = ".well-known/openid-configuration"
)

// discoveryDoc is the provider's metadata (OpenID Connect Discovery 1.0,
// section 3; RFC 8414; Back-Channel Logout 1.0; RFC 9207).
type discoveryDoc struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	ClaimsParameterSupported          bool     `json:"claims_parameter_supported"`
	RequestParameterSupported         bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	BackchannelLogoutSupported        bool     `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported bool     `json:"backchannel_logout_session_supported"`
	UserinfoSigningAlgValuesSupported []string `json:"userinfo_signing_alg_values_supported"`
	PromptValuesSupported             []string `json:"prompt_values_supported"`
	ACRValuesSupported                []string `json:"acr_values_supported"`
	AuthorizationResponseISSParameter bool     `json:"authorization_response_iss_parameter_supported"`
}

func (p *Provider) discovery() discoveryDoc {
	return discoveryDoc{
		Issuer:                            p.issuer,
		AuthorizationEndpoint:             p.endpoint(pathAuthorize),
		TokenEndpoint:                     p.endpoint(pathToken),
		UserinfoEndpoint:                  p.endpoint(pathUserinfo),
		JWKSURI:                           p.endpoint(pathJWKS),
		EndSessionEndpoint:                p.endpoint(pathLogout),
		ScopesSupported:                   []string{"openid", "email", "profile"},
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  Algorithms,
		CodeChallengeMethodsSupported:     []string{"S256"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		ClaimsSupported: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "acr",
			"preferred_username", "email", "email_verified", "name", "given_name", "family_name", "locale", "groups", "quota"},
		BackchannelLogoutSupported:        true,
		BackchannelLogoutSessionSupported: true,
		UserinfoSigningAlgValuesSupported: []string{"none"},
		PromptValuesSupported:             []string{"none", "login"},
		ACRValuesSupported:                []string{ACRPassword, ACRTwoFactor},
		AuthorizationResponseISSParameter: true,
	}
}

// Mount registers the provider's endpoints under the issuer's path, each
// wrapped, like the account pages, in web's security headers (one CSP; over
// https, HSTS on every answer) and panic recovery.
func (p *Provider) Mount(mux *http.ServeMux) {
	base := strings.TrimRight(p.path, "/") + "/"
	h := func(f http.HandlerFunc) http.Handler {
		return web.SecurityHeaders(p.secure, web.Recover(p.rd, f))
	}
	mux.Handle("GET "+base+pathDiscovery, h(p.handleDiscovery))
	mux.Handle("GET "+base+pathJWKS, h(p.handleJWKS))
	mux.Handle(base+pathAuthorize, h(p.handleAuthorize))
	mux.Handle(base+pathLogin, h(p.handleLogin))
	mux.Handle(base+pathToken, h(p.handleToken))
	mux.Handle(base+pathUserinfo, h(p.handleUserinfo))
	mux.Handle(base+pathLogout, h(p.handleLogout))
	mux.Handle(base+pathSignIn, h(p.handleSignIn))
	mux.Handle(base+pathSecondFactor, h(p.handleSecondFactor))
}

func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(p.discover)
}

func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(p.keys.jwksJSON())
}

func sha(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// tx runs fn in a transaction.
func (p *Provider) tx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return p.st.InTx(ctx, fn)
}
