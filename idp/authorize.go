package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/internal/apps"
	"sesame/internal/i18n"
	"sesame/internal/jobs"
	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/web"
)

// supportedScopes are the scopes the provider knows; others are ignored.
var supportedScopes = []string{"openid", "email", "profile", "offline_access"}

// pkceChallenge is an S256 challenge: base64url of 32 bytes.
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// appendQuery adds params to uri, after its own query when it has one: a
// registered ".../login.php?oidc" receives "...?oidc&code=...&state=...".
func appendQuery(uri string, params url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
		if strings.HasSuffix(uri, "?") || strings.HasSuffix(uri, "&") {
			sep = ""
		}
	}
	return uri + sep + params.Encode()
}

// redirectError sends an OAuth error back to a redirect URI already matched
// against the client's.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, desc string) {
	v := url.Values{"error": {code}}
	if desc != "" {
		v.Set("error_description", desc)
	}
	if state != "" {
		v.Set("state", state)
	}
	p.redirectBack(w, r, redirectURI, v)
}

// redirectBack sends the browser to a client's redirect URI with params and
// the issuer (RFC 9207, so a client of several providers can tell which
// answered), with 303 so that a login form's POST is not repeated
// (RFC 9700, 4.12).
func (p *Provider) redirectBack(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	params.Set("iss", p.issuer)
	http.Redirect(w, r, appendQuery(redirectURI, params), http.StatusSeeOther)
}

// browserID returns the browser cookie, setting a new one when absent.
func (p *Provider) browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(p.cookieBrowser); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	v := randomID(32)
	http.SetCookie(w, &http.Cookie{Name: p.cookieBrowser, Value: v, Path: p.path, HttpOnly: true,
		Secure: p.secure, SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	return v
}

// session returns the browser's valid SSO session and its person, or
// ErrNotFound. An expired session, or one of a person no longer active, is
// no session.
func (p *Provider) session(ctx context.Context, r *http.Request) (store.SSOSession, store.Person, error) {
	c, err := r.Cookie(p.cookieSSO)
	if err != nil || c.Value == "" {
		return store.SSOSession{}, store.Person{}, store.ErrNotFound
	}
	s, err := p.st.GetSSOSession(ctx, sha(c.Value))
	if err != nil {
		return store.SSOSession{}, store.Person{}, err
	}
	now := p.now()
	if !now.Before(s.IdleExpiresAt) || !now.Before(s.ExpiresAt) {
		return store.SSOSession{}, store.Person{}, store.ErrNotFound
	}
	person, err := p.st.GetPerson(ctx, s.PersonID)
	if err != nil {
		return store.SSOSession{}, store.Person{}, err
	}
	if person.State != store.StateActive || person.PasswordHash == "" {
		return store.SSOSession{}, store.Person{}, store.ErrNotFound
	}
	return s, person, nil
}

func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := web.ParseForm(w, r); err != nil {
		p.badForm(w, r, err, i18n.LoginMalformedRequest)
		return
	}
	q := r.Form
	ctx := r.Context()
	svc, err := p.st.GetServiceByClientID(ctx, q.Get("client_id"))
	if err != nil || q.Get("client_id") == "" {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			p.unavailable(w, r, fmt.Errorf("idp: authorize: client lookup: %w", err), web.Onward{})
			return
		}
		p.refuse(w, r, i18n.LoginUnknownClientTitle, i18n.LoginUnknownClient, "authorize: unknown client "+strconv.Quote(q.Get("client_id")), web.Onward{})
		return
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" || !slices.Contains(svc.RedirectURIs, redirectURI) || ValidateRedirectURI(redirectURI) != nil {
		p.refuse(w, r, i18n.LoginBadRedirectTitle, i18n.LoginBadRedirect, "authorize: unregistered redirect URI "+strconv.Quote(redirectURI),
			p.onward(ctx, svc))
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) { p.redirectError(w, r, redirectURI, state, code, desc) }
	switch {
	case q.Has("request"):
		fail("request_not_supported", "request objects are not supported")
		return
	case q.Has("request_uri"):
		fail("request_uri_not_supported", "request_uri is not supported")
		return
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only response_type=code is supported")
		return
	case q.Get("response_mode") != "" && q.Get("response_mode") != "query":
		fail("invalid_request", "only response_mode=query is supported")
		return
	}
	var scopes []string
	for _, s := range strings.Fields(q.Get("scope")) {
		if slices.Contains(supportedScopes, s) && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if !slices.Contains(scopes, "openid") {
		fail("invalid_scope", "the openid scope is required")
		return
	}
	prompt := strings.Fields(q.Get("prompt"))
	if slices.Contains(prompt, "none") && len(prompt) > 1 {
		fail("invalid_request", "prompt=none cannot be combined with other values")
		return
	}
	maxAge := -1
	if v := q.Get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fail("invalid_request", "max_age must be a non-negative integer")
			return
		}
		maxAge = n
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge != "" && method != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case challenge != "" && !pkceChallenge.MatchString(challenge):
		fail("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier")
		return
	case challenge == "" && method != "":
		fail("invalid_request", "code_challenge_method without code_challenge")
		return
	case challenge == "" && svc.RequirePKCE:
		fail("invalid_request", "this client must use PKCE (S256)")
		return
	}
	// A client asks for two factors with acr_values (the two-factor
	// class listed, the password one not), or its service always does.
	acrs := strings.Fields(q.Get("acr_values"))
	requireMFA := svc.RequireMFA || (slices.Contains(acrs, ACRTwoFactor) && !slices.Contains(acrs, ACRPassword))
	// Each request is stored for its lifetime: one address may not store
	// them faster than AuthorizeLimiter allows.
	if p.cfg.AuthorizeLimiter != nil {
		if ok, wait := p.cfg.AuthorizeLimiter.Allow("authorize:" + p.clientKey(r)); !ok {
			p.tooMany(w, r, wait, "authorization requests per client address", p.onward(ctx, svc))
			return
		}
	}
	now := p.now()
	ar := store.AuthRequest{
		ID: randomID(32), ClientID: svc.ClientID, RedirectURI: redirectURI, Scopes: scopes, State: state,
		Nonce: q.Get("nonce"), CodeChallenge: challenge, CodeChallengeMethod: method, ResponseType: "code",
		Prompt: prompt, MaxAge: maxAge, BrowserHash: sha(p.browserID(w, r)), ExpiresAt: now.Add(p.cfg.AuthRequestTTL),
		RequireMFA: requireMFA,
	}
	sess, person, err := p.session(ctx, r)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.unavailable(w, r, fmt.Errorf("idp: authorize: session: %w", err), p.onward(ctx, svc))
		return
	}
	hasSession := err == nil
	// A session opened with a password alone does not answer a client
	// that requires two factors: both are asked again.
	needLogin := !hasSession || slices.Contains(prompt, "login") ||
		(maxAge >= 0 && now.Sub(sess.AuthTime) > time.Duration(maxAge)*time.Second) ||
		(requireMFA && !slices.Contains(sess.AMR, amrMFA))
	if hint := q.Get("id_token_hint"); hint != "" {
		// The hint names whom the client expects (an expired one still
		// does). A session of someone else must not answer for them.
		claims, err := p.verify(hint, "JWT", true)
		if err != nil {
			fail("invalid_request", "id_token_hint was not issued by this provider")
			return
		}
		if hasSession && claims.Subject != person.ID {
			needLogin = true
		}
	}
	if needLogin && slices.Contains(prompt, "none") {
		fail("login_required", "no valid session")
		return
	}
	if hasSession && !needLogin {
		ar.PersonID, ar.AuthTime, ar.SID, ar.AMR = person.ID, sess.AuthTime, sess.SID, sess.AMR
	}
	if err := p.st.CreateAuthRequest(ctx, &ar); err != nil {
		p.unavailable(w, r, fmt.Errorf("idp: authorize: store request: %w", err), p.onward(ctx, svc))
		return
	}
	if needLogin {
		p.showLogin(w, r, http.StatusOK, ar, svc, "", i18n.Message{})
		return
	}
	p.finish(w, r, ar, sess.Hash, nil)
}

// finish ends an authorization request whose person is known: the access
// check, then a code sent back to the client. The request is marked done,
// the code stored and the SSO session touched in one transaction; after a
// password login, fresh is the new session, created in that same
// transaction (one commit for the whole login), its cookie set here.
func (p *Provider) finish(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, sessHash []byte, fresh *freshSession) {
	ctx := r.Context()
	now := p.now()
	var (
		code    string
		refused bool
		svc     store.Service
		person  store.Person
		created store.SSOSession
	)
	err := p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		code, refused = "", false
		ar := ar // a retried transaction starts from the request as given
		var err error
		if svc, err = tx.GetServiceByClientID(ctx, ar.ClientID); err != nil {
			return err
		}
		grants, err := tx.ListGrants(ctx, store.GrantFilter{PersonID: ar.PersonID, ServiceID: svc.ID})
		if err != nil {
			return err
		}
		if fresh != nil {
			created = fresh.sess
			client := ""
			if len(grants) > 0 {
				client = ar.ClientID
			}
			if err := p.startSessionTx(ctx, tx, r, &created, client); err != nil {
				return err
			}
			ar.AuthTime, ar.SID, ar.AMR = created.AuthTime, created.SID, created.AMR
		}
		if _, err := tx.UpdateAuthRequest(ctx, ar.ID, func(a *store.AuthRequest) error {
			if a.Done {
				return store.ErrTokenUsed
			}
			a.Done, a.PersonID, a.AuthTime, a.SID, a.AMR = true, ar.PersonID, ar.AuthTime, ar.SID, ar.AMR
			return nil
		}); err != nil {
			return err
		}
		if len(grants) == 0 {
			refused = true
			person, err = tx.GetPerson(ctx, ar.PersonID)
			return err
		}
		code = randomID(32)
		if err := tx.CreateAuthCode(ctx, store.AuthCode{Hash: sha(code), AuthRequestID: ar.ID, ClientID: ar.ClientID,
			ExpiresAt: now.Add(p.cfg.CodeTTL)}); err != nil {
			return err
		}
		if fresh != nil { // created just now, with this client
			return nil
		}
		return tx.TouchSSOSession(ctx, sessHash, now, now.Add(p.cfg.SessionIdle), ar.ClientID)
	})
	if err == nil && fresh != nil {
		p.setSessionCookie(w, fresh.id, created)
	}
	switch {
	case errors.Is(err, store.ErrTokenUsed):
		p.refuse(w, r, i18n.LoginUsedTitle, i18n.LoginUsed, "authorization request already used", p.onwardFor(ctx, ar.ClientID))
		return
	case err != nil:
		p.unavailable(w, r, fmt.Errorf("idp: finish authorization: %w", err), p.onwardFor(ctx, ar.ClientID))
		return
	}
	if refused {
		p.log.Info("idp: access refused", "person", ar.PersonID, "client", ar.ClientID)
		if slices.Contains(ar.Prompt, "none") {
			p.redirectError(w, r, ar.RedirectURI, ar.State, "access_denied", "no access to this service")
			return
		}
		// The way onward: back to the service, its structure's contact, or
		// the same request again with another account (prompt=login).
		on := p.onward(ctx, svc)
		on.Switch = p.authorizeURL(ar, "login")
		p.rd.Render(w, r, http.StatusForbidden, "login_noaccess", &web.Page{Title: i18n.NoAccessTitle, Structure: on.Structure,
			Here: p.authorizeURL(ar), Data: noAccessPage{Username: person.Username, Onward: on}})
		return
	}
	v := url.Values{"code": {code}}
	if ar.State != "" {
		v.Set("state", ar.State)
	}
	p.redirectBack(w, r, ar.RedirectURI, v)
}

// loginRequest loads the pending request a login form belongs to, checking it
// was started by this browser.
func (p *Provider) loginRequest(ctx context.Context, r *http.Request, id string) (store.AuthRequest, error) {
	if id == "" {
		return store.AuthRequest{}, store.ErrNotFound
	}
	ar, err := p.st.GetAuthRequest(ctx, id)
	if err != nil {
		return ar, err
	}
	c, cerr := r.Cookie(p.cookieBrowser)
	switch {
	case cerr != nil || !constantEqual(sha(c.Value), ar.BrowserHash):
		return ar, store.ErrNotFound
	case ar.Done:
		return ar, store.ErrTokenUsed
	case !p.now().Before(ar.ExpiresAt):
		return ar, store.ErrTokenExpired
	}
	return ar, nil
}

// loginRequestError answers a login form whose request cannot be used,
// with the way back to its service when the request was found.
func (p *Provider) loginRequestError(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, err error) {
	switch {
	case errors.Is(err, store.ErrTokenUsed), errors.Is(err, store.ErrTokenExpired), errors.Is(err, store.ErrNotFound):
		p.refuse(w, r, i18n.LoginExpiredTitle, i18n.LoginExpired, "login request: "+err.Error(), p.onwardFor(r.Context(), ar.ClientID))
	default:
		p.unavailable(w, r, fmt.Errorf("idp: login request: %w", err), p.onwardFor(r.Context(), ar.ClientID))
	}
}

func (p *Provider) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet:
		ar, err := p.loginRequest(ctx, r, r.URL.Query().Get("req"))
		if err != nil {
			p.loginRequestError(w, r, ar, err)
			return
		}
		svc, _ := p.st.GetServiceByClientID(ctx, ar.ClientID)
		p.showLogin(w, r, http.StatusOK, ar, svc, "", i18n.Message{})
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	release, ok := p.readLoginForm(w, r, "login")
	if !ok {
		return
	}
	defer release()
	ar, err := p.loginRequest(ctx, r, r.PostForm.Get("req"))
	if err != nil {
		p.loginRequestError(w, r, ar, err)
		return
	}
	svc, _ := p.st.GetServiceByClientID(ctx, ar.ClientID)
	if r.PostForm.Get("action") == "passkey" {
		person, amr, ok := p.passkeyAlone(w, r, func(problem i18n.Message) {
			p.showLogin(w, r, http.StatusUnauthorized, ar, svc, "", problem)
		}, p.onward(ctx, svc))
		if ok {
			p.finishLogin(w, r, ar, svc, person, amr)
		}
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	account, found, err := p.findAccount(ctx, username)
	if err != nil {
		p.unavailable(w, r, fmt.Errorf("idp: login: %w", err), p.onward(ctx, svc))
		return
	}
	person, ok, err := p.tryPassword(r, username, account, found)
	var limited errLimited
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.wait.Seconds())+1))
		p.showLogin(w, r, http.StatusTooManyRequests, ar, svc, username, i18n.M(i18n.LoginTooMany))
		return
	case errors.Is(err, password.ErrBusy):
		w.Header().Set("Retry-After", "2")
		p.showLogin(w, r, http.StatusServiceUnavailable, ar, svc, username, i18n.M(i18n.LoginBusy))
		return
	case err != nil:
		p.unavailable(w, r, fmt.Errorf("idp: login: %w", err), p.onward(ctx, svc))
		return
	case !ok:
		p.showLogin(w, r, http.StatusUnauthorized, ar, svc, username, i18n.M(i18n.LoginWrong))
		return
	}
	step, err := p.secondStep(ctx, person, ar.RequireMFA)
	if err != nil {
		p.unavailable(w, r, err, p.onward(ctx, svc))
		return
	}
	if step != nil {
		step.Request = ar.ID
		p.toSecondStep(w, r, step, p.onward(ctx, svc))
		return
	}
	p.finishLogin(w, r, ar, svc, person, []string{amrPassword})
}

// finishLogin ends the login of ar once person gave every factor asked
// (amr): a new session, and the code for the client.
func (p *Provider) finishLogin(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, svc store.Service, person store.Person, amr []string) {
	ctx := r.Context()
	ar.PersonID = person.ID
	if k := apps.Of(svc); k.StateTTL > 0 && svc.BaseURL != "" &&
		p.now().Sub(ar.ExpiresAt.Add(-p.cfg.AuthRequestTTL)) > k.StateTTL {
		// The application (WordPress) forgot its state: resuming would show
		// "Invalid state". Its own login page starts a fresh request, which
		// the new session answers at once.
		if _, err := p.startSession(ctx, w, r, person, amr); err != nil {
			p.unavailable(w, r, err, p.onward(ctx, svc))
			return
		}
		if _, err := p.st.UpdateAuthRequest(ctx, ar.ID, func(a *store.AuthRequest) error { a.Done = true; return nil }); err != nil {
			p.log.Error("idp: close stale request", "err", err)
		}
		http.Redirect(w, r, strings.TrimRight(svc.BaseURL, "/")+k.LoginPath, http.StatusSeeOther)
		return
	}
	p.finish(w, r, ar, nil, p.newSession(person, amr))
}

// findAccount finds the person a login names: by username, then by email.
func (p *Provider) findAccount(ctx context.Context, login string) (store.Person, bool, error) {
	if login == "" {
		return store.Person{}, false, nil
	}
	person, err := p.st.GetPersonByUsername(ctx, strings.ToLower(login))
	if errors.Is(err, store.ErrNotFound) && strings.Contains(login, "@") {
		person, err = p.st.GetPersonByEmail(ctx, store.FoldEmail(login))
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Person{}, false, nil
	}
	return person, err == nil, err
}

// checkPassword verifies the password of the person findAccount found; an
// unknown account costs a dummy verification, so both take the same time.
// Only an active person with a password may pass.
func (p *Provider) checkPassword(ctx context.Context, person store.Person, found bool, login, plain string) (store.Person, bool, error) {
	if !found || person.PasswordHash == "" || login == "" || plain == "" {
		return store.Person{}, false, p.cfg.Hasher.Dummy(ctx)
	}
	ok, err := p.cfg.Hasher.Verify(ctx, person.PasswordHash, plain)
	if errors.Is(err, password.ErrBusy) {
		return store.Person{}, false, err
	}
	if err != nil {
		p.log.Warn("idp: unreadable password hash", "person", person.ID, "err", err)
		return store.Person{}, false, nil
	}
	if !ok || person.State != store.StateActive {
		return store.Person{}, false, nil
	}
	if p.cfg.Hasher.NeedsRehash(person.PasswordHash) {
		p.rehash(ctx, person, plain)
	}
	return person, true, nil
}

// rehash stores a hash made with the current parameters after a login
// proved plain right (the parameters were raised since the person chose
// it), unless the password changed meanwhile, and queues the directory
// update. A failure only logs: the next login tries again.
func (p *Provider) rehash(ctx context.Context, person store.Person, plain string) {
	fresh, err := p.cfg.Hasher.Hash(ctx, plain)
	if err != nil {
		p.log.Warn("idp: rehash password", "person", person.ID, "err", err)
		return
	}
	err = p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		changed := false
		if _, err := tx.UpdatePerson(ctx, person.ID, func(cur *store.Person) error {
			if cur.PasswordHash == person.PasswordHash {
				cur.PasswordHash, changed = fresh, true
			}
			return nil
		}); err != nil || !changed {
			return err
		}
		ref, err := json.Marshal(jobs.PersonRef{PersonID: person.ID})
		if err != nil {
			return err
		}
		_, err = tx.EnqueueJob(ctx, &store.Job{Kind: jobs.KindLDAPPerson, DedupeKey: jobs.DedupeLDAPPerson(person.ID), Payload: ref})
		return err
	})
	if err != nil {
		p.log.Warn("idp: rehash password", "person", person.ID, "err", err)
		return
	}
	p.log.Info("idp: password hash upgraded to the current parameters", "person", person.ID)
}

// freshSession is a new SSO session not yet stored, and its cookie's value.
type freshSession struct {
	id   string
	sess store.SSOSession
}

// newSession prepares a new SSO session of person after a login that
// proved amr; startSessionTx stores it. The cookie always gets a new id.
func (p *Provider) newSession(person store.Person, amr []string) *freshSession {
	now := p.now()
	id := randomID(32)
	return &freshSession{id: id, sess: store.SSOSession{Hash: sha(id), PersonID: person.ID, AuthTime: now, AMR: amr, CreatedAt: now,
		LastSeenAt: now, IdleExpiresAt: now.Add(p.cfg.SessionIdle), ExpiresAt: now.Add(p.cfg.SessionMax)}}
}

// startSessionTx stores sess in tx, replacing the browser's previous
// session: one of the same person hands over its sid and clients (they
// stay logged in under it); one of another person is ended. clientID, when
// set, is recorded among the session's clients.
func (p *Provider) startSessionTx(ctx context.Context, tx store.Tx, r *http.Request, sess *store.SSOSession, clientID string) error {
	now := p.now()
	sess.SID, sess.Clients = randomID(16), nil
	if c, err := r.Cookie(p.cookieSSO); err == nil && c.Value != "" {
		old, err := tx.DeleteSSOSession(ctx, sha(c.Value))
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case old.PersonID == sess.PersonID:
			sess.SID, sess.Clients = old.SID, old.Clients
		default:
			// Someone else logs in on this browser: the previous
			// person's session ends everywhere.
			if _, err := tx.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{SID: old.SID}, now); err != nil {
				return err
			}
			if err := queueBackchannel(ctx, tx, []store.SSOSession{old}, ""); err != nil {
				return err
			}
		}
	}
	if clientID != "" && !slices.Contains(sess.Clients, clientID) {
		sess.Clients = append(slices.Clip(sess.Clients), clientID)
	}
	return tx.CreateSSOSession(ctx, sess)
}

// setSessionCookie sets the cookie of a session startSessionTx stored.
func (p *Provider) setSessionCookie(w http.ResponseWriter, id string, sess store.SSOSession) {
	http.SetCookie(w, &http.Cookie{Name: p.cookieSSO, Value: id, Path: p.path, HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt})
}

// startSession opens a new SSO session after a login that proved amr, in
// a transaction of its own, and sets its cookie (see startSessionTx).
func (p *Provider) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, person store.Person, amr []string) (store.SSOSession, error) {
	fresh := p.newSession(person, amr)
	var sess store.SSOSession
	err := p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		sess = fresh.sess
		return p.startSessionTx(ctx, tx, r, &sess, "")
	})
	if err != nil {
		return sess, fmt.Errorf("idp: new session: %w", err)
	}
	p.setSessionCookie(w, fresh.id, sess)
	return sess, nil
}

// limitKeys are the buckets a login attempt counts against: the client's
// address (see clientKey) and the account (by person, so a username and an email share one; an
// unknown login by its text).
func (p *Provider) limitKeys(r *http.Request, login string, person store.Person, found bool) []string {
	if p.cfg.LoginLimiter == nil {
		return nil
	}
	account := "account:login:" + strings.ToLower(login)
	if found {
		account = web.AccountLimitKey(person.ID)
	}
	return []string{"ip:" + p.clientKey(r), account}
}

// tryPassword checks the password posted in r for the account a login
// names, within the login limits (limitKeys): when a bucket is empty it
// returns errLimited, hashing nothing; a wrong password spends a token of
// each.
//
// Only failures spend, so the check and the spending after a wrong
// password must not interleave with another attempt's on the same
// account: its attempts take turns (as second-factor codes do, see
// codeAllowed), and the next one checks once this one is decided. Without
// it, every attempt in flight while a token was left was checked: 11
// (SQLite) and 32 (PostgreSQL) of 100 wrong passwords sent at once against
// a burst of 10, and in production up to the logins in progress
// (MaxLoginsInProgress, four per CPU) for each token the bucket gains
// back. One that cannot get its turn within attemptTurnWait is refused as
// limited. The client's address is a bucket too but takes no turns: people
// behind one address (a NAT, a training room) would all wait in line for
// each other's hashes.
func (p *Provider) tryPassword(r *http.Request, username string, account store.Person, found bool) (store.Person, bool, error) {
	limits := p.limitKeys(r, username, account, found)
	if limits != nil {
		ctx, cancel := context.WithTimeout(r.Context(), attemptTurnWait)
		release, err := p.loginLocks.lock(ctx, limits[len(limits)-1])
		cancel()
		if err != nil {
			return store.Person{}, false, errLimited{wait: time.Second}
		}
		defer release()
		if wait, limited := p.limited(limits); limited {
			return store.Person{}, false, errLimited{wait: wait}
		}
	}
	person, ok, err := p.checkPassword(r.Context(), account, found, username, r.PostForm.Get("password"))
	if err == nil && !ok {
		p.failed(limits)
	}
	return person, ok, err
}

// attemptTurnWait bounds how long a password attempt waits for the
// account's previous ones (tryPassword): a hash or two in production.
const attemptTurnWait = codeTurnWait

// errLimited is tryPassword's refusal when the login limits are spent:
// answered 429 with Retry-After wait.
type errLimited struct{ wait time.Duration }

func (e errLimited) Error() string {
	return fmt.Sprintf("idp: too many failed logins, retry in %s", e.wait)
}

// clientKey names the client of r for rate limits, as web.ClientKey does
// for the account pages: its address, an IPv6 client by its /64 (which one
// host usually holds whole), an IPv4-mapped address as IPv4.
func (p *Provider) clientKey(r *http.Request) string {
	if p.cfg.ClientIP != nil {
		return web.ClientKey(p.cfg.ClientIP(r))
	}
	return web.ClientKey(web.ClientIP(r))
}

// limited reports whether a bucket of keys is empty, and for how long. It
// spends nothing: only failures count (see failed), so people who type
// their password right are never held back, even thirty behind one NAT.
func (p *Provider) limited(keys []string) (time.Duration, bool) {
	for _, k := range keys {
		if ok, wait := p.cfg.LoginLimiter.Check(k); !ok {
			return wait, true
		}
	}
	return 0, false
}

// failed spends one token of each bucket of keys after a wrong password.
func (p *Provider) failed(keys []string) {
	for _, k := range keys {
		p.cfg.LoginLimiter.Allow(k)
	}
}

// errLoginsBusy is logged when a password form is refused before it is
// read: too many in progress, or no hash slot would be free for it.
var errLoginsBusy = errors.New("idp: password form refused at once: the password hashes are saturated")

// readLoginForm checks that a password form (the login of an
// authorization request, or sesame's own sign-in) was posted from
// sesame's own page, and parses it; it has answered when it returns
// false. A post from another site, even a sibling subdomain, could log a
// browser in as someone else. Under overload (MaxLoginsInProgress forms
// being handled, or the hasher saturated) it answers 503 with Retry-After
// at once, before reading the body or the store, so that refusals stay
// cheap and fast however many arrive. When it returns true, the caller
// must call release once done.
func (p *Provider) readLoginForm(w http.ResponseWriter, r *http.Request, form string) (release func(), ok bool) {
	busy := func() { p.loginsBusy.Write(w, r) }
	if p.cfg.Hasher.Saturated() {
		busy()
		return nil, false
	}
	select {
	case p.logins <- struct{}{}:
	default:
		busy()
		return nil, false
	}
	release = func() { <-p.logins }
	if err := p.sameOrigin.Check(r); err != nil {
		release()
		p.fail(w, r, &web.Error{Code: web.EForbidden, Err: fmt.Errorf("idp: %s form from another origin: %w", form, err),
			Title: i18n.LoginCrossOriginTitle, Message: i18n.M(i18n.LoginCrossOrigin)}, web.Onward{})
		return nil, false
	}
	if err := web.ParseForm(w, r); err != nil {
		release()
		p.badForm(w, r, err, i18n.LoginMalformedForm)
		return nil, false
	}
	return release, true
}
