package idp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"sesame/internal/apps"
	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/web"
)

// oauthError is an error answered as RFC 6749 JSON.
type oauthError struct {
	status int
	code   string
	desc   string
}

func (e *oauthError) Error() string { return "idp: " + e.code + ": " + e.desc }

func invalidGrant(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_grant", desc}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *Provider) writeOAuthError(w http.ResponseWriter, err error) {
	var oe *oauthError
	if !errors.As(err, &oe) {
		p.log.Error("idp: token endpoint", "err", err)
		oe = &oauthError{http.StatusInternalServerError, "server_error", "internal error"}
		if errors.Is(err, password.ErrBusy) {
			w.Header().Set("Retry-After", "2")
			oe = &oauthError{http.StatusServiceUnavailable, "temporarily_unavailable", "try again shortly"}
		}
	}
	if oe.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="sesame"`)
	}
	writeJSON(w, oe.status, map[string]string{"error": oe.code, "error_description": oe.desc})
}

// formOAuthError is the answer to a form web.ParseForm refused: 413 (or
// 414) past web.MaxFormBytes, else 400.
func formOAuthError(err error) *oauthError {
	if status := web.FormStatus(err); status != http.StatusBadRequest {
		return &oauthError{status, "invalid_request", "the request is larger than 64 KiB"}
	}
	return &oauthError{http.StatusBadRequest, "invalid_request", "malformed form body"}
}

func constantEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// authenticateClient checks client_secret_basic or client_secret_post.
// Secrets are stored as SHA-256 (HashClientSecret); a secret stored by an
// earlier version as argon2id is verified once, remembered, and replaced by
// its SHA-256.
func (p *Provider) authenticateClient(ctx context.Context, r *http.Request) (store.Service, error) {
	id, secret, basic := r.BasicAuth()
	method := "client_secret_basic"
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return store.Service{}, &oauthError{http.StatusUnauthorized, "invalid_client", "malformed client credentials"}
		}
		if r.PostForm.Get("client_secret") != "" {
			return store.Service{}, &oauthError{http.StatusBadRequest, "invalid_request", "use one client authentication method"}
		}
		if fid := r.PostForm.Get("client_id"); fid != "" && fid != id {
			return store.Service{}, &oauthError{http.StatusBadRequest, "invalid_request", "client_id does not match the credentials"}
		}
	} else {
		id, secret, method = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), "client_secret_post"
	}
	bad := &oauthError{http.StatusUnauthorized, "invalid_client", "client authentication failed"}
	if id == "" || secret == "" {
		return store.Service{}, bad
	}
	// Client ids are public (they travel in every authorization URL): an
	// unknown one needs no disguise.
	svc, err := p.st.GetServiceByClientID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && svc.ClientSecretHash == "") {
		return store.Service{}, bad
	}
	if err != nil {
		return store.Service{}, err
	}
	if svc.AuthMethod != "" && svc.AuthMethod != method {
		return store.Service{}, bad
	}
	if fast, ok := fastClientSecret(svc.ClientSecretHash, secret); fast {
		if !ok {
			return store.Service{}, bad
		}
		return svc, nil
	}
	digest := sha256.Sum256([]byte(secret))
	cacheKey := svc.ClientID + "\x00" + base64.RawStdEncoding.EncodeToString(digest[:]) + "\x00" + svc.ClientSecretHash
	if _, ok := p.secretCache.Load(cacheKey); ok {
		return svc, nil
	}
	ok, err := p.cfg.Hasher.Verify(ctx, svc.ClientSecretHash, secret)
	if err != nil {
		if errors.Is(err, password.ErrBusy) {
			return store.Service{}, err
		}
		p.log.Error("idp: client secret hash unreadable", "client", svc.ClientID, "err", err)
		return store.Service{}, bad
	}
	if !ok {
		return store.Service{}, bad
	}
	p.secretCache.Store(cacheKey, struct{}{})
	old := svc.ClientSecretHash
	if _, err := p.st.UpdateService(ctx, svc.ID, func(s *store.Service) error {
		if s.ClientSecretHash == old {
			s.ClientSecretHash = HashClientSecret(secret)
		}
		return nil
	}); err != nil {
		p.log.Warn("idp: store the client secret's SHA-256", "client", svc.ClientID, "err", err)
	}
	return svc, nil
}

func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "use POST"})
		return
	}
	if err := web.ParseForm(w, r); err != nil {
		p.writeOAuthError(w, formOAuthError(err))
		return
	}
	ctx := r.Context()
	svc, err := p.authenticateClient(ctx, r)
	if err != nil {
		p.writeOAuthError(w, err)
		return
	}
	var resp *tokenResponse
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		resp, err = p.exchangeCode(ctx, svc, r.PostForm)
	case "refresh_token":
		resp, err = p.refresh(ctx, svc, r.PostForm)
	case "":
		err = &oauthError{http.StatusBadRequest, "invalid_request", "grant_type is missing"}
	default:
		err = &oauthError{http.StatusBadRequest, "unsupported_grant_type", "only authorization_code and refresh_token"}
	}
	if err != nil {
		p.writeOAuthError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// verifyPKCE checks the verifier against an S256 challenge.
func verifyPKCE(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for _, c := range verifier {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	h := sha256.Sum256([]byte(verifier))
	return constantEqual([]byte(base64.RawURLEncoding.EncodeToString(h[:])), []byte(challenge))
}

// grantFor returns the person (active) and their grant on svc.
func grantFor(ctx context.Context, tx store.Tx, personID string, svc store.Service) (store.Person, store.Grant, error) {
	person, err := tx.GetPerson(ctx, personID)
	if err != nil {
		return person, store.Grant{}, err
	}
	if person.State != store.StateActive {
		return person, store.Grant{}, invalidGrant("the account is disabled")
	}
	grants, err := tx.ListGrants(ctx, store.GrantFilter{PersonID: personID, ServiceID: svc.ID})
	if err != nil {
		return person, store.Grant{}, err
	}
	if len(grants) == 0 {
		return person, store.Grant{}, invalidGrant("no access to this service")
	}
	return person, grants[0], nil
}

// exchangeCode consumes the code first, atomically, and only then mints: a
// second use of a code finds it consumed and revokes the family the first
// use created.
func (p *Provider) exchangeCode(ctx context.Context, svc store.Service, form url.Values) (*tokenResponse, error) {
	code := form.Get("code")
	if code == "" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "code is missing"}
	}
	now := p.now()
	familyID := randomID(24)
	var replayed string
	var ar store.AuthRequest
	var person store.Person
	var grant store.Grant
	var refresh string
	err := p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		// A re-run (after a serialization failure) decides afresh: nothing
		// the rolled-back attempt read may carry over.
		replayed, refresh, ar, person, grant = "", "", store.AuthRequest{}, store.Person{}, store.Grant{}
		c, err := tx.ConsumeAuthCode(ctx, sha(code), familyID, now)
		switch {
		case errors.Is(err, store.ErrTokenUsed):
			replayed = c.FamilyID
			if c.FamilyID != "" {
				if _, err := tx.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{ID: c.FamilyID}, now); err != nil {
					return err
				}
			}
			return nil
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrTokenExpired):
			return invalidGrant("the code is invalid or expired")
		case err != nil:
			return err
		}
		if c.ClientID != svc.ClientID {
			return invalidGrant("the code was issued to another client")
		}
		if ar, err = tx.GetAuthRequest(ctx, c.AuthRequestID); err != nil {
			return err
		}
		if form.Get("redirect_uri") != ar.RedirectURI {
			return invalidGrant("redirect_uri differs from the authorization request")
		}
		verifier := form.Get("code_verifier")
		switch {
		case ar.CodeChallenge != "" && !verifyPKCE(ar.CodeChallenge, verifier):
			return invalidGrant("code_verifier does not match the code_challenge")
		case ar.CodeChallenge == "" && verifier != "":
			return invalidGrant("code_verifier sent but no code_challenge was")
		}
		if ar.SID != "" {
			// The session the code was issued in has ended since (logout,
			// another person's login, sessions ended): its token families
			// were revoked, and a new one must not escape that.
			if _, err := tx.GetSSOSessionBySID(ctx, ar.SID); errors.Is(err, store.ErrNotFound) {
				return invalidGrant("the session the code was issued in has ended")
			} else if err != nil {
				return err
			}
		}
		if ar.RequireMFA && !slices.Contains(ar.AMR, amrMFA) {
			// Never reached through the login, which asks both
			// factors: a last guard for a client that requires them.
			return invalidGrant("the login did not use the two factors this client requires")
		}
		if person, grant, err = grantFor(ctx, tx, ar.PersonID, svc); err != nil {
			return err
		}
		fam := store.TokenFamily{ID: familyID, ClientID: svc.ClientID, PersonID: person.ID, SID: ar.SID, Scopes: ar.Scopes,
			AuthTime: ar.AuthTime, AMR: ar.AMR, ExpiresAt: now.Add(p.familyTTL(svc))}
		if err := tx.CreateTokenFamily(ctx, &fam); err != nil {
			return err
		}
		if svc.RefreshTokens {
			refresh = randomID(32)
			return tx.CreateRefreshToken(ctx, store.RefreshToken{Hash: sha(refresh), FamilyID: familyID, ExpiresAt: fam.ExpiresAt})
		}
		return nil
	})
	var oe *oauthError
	switch {
	case errors.As(err, &oe):
		// A failed exchange still consumed the code: retry the transaction
		// effect by consuming outside it, so the code never works again.
		if _, cerr := p.st.ConsumeAuthCode(ctx, sha(code), "", now); cerr != nil && !isExpectedConsume(cerr) {
			p.log.Error("idp: burn failed code", "err", cerr)
		}
		return nil, err
	case err != nil:
		return nil, err
	}
	if replayed != "" || ar.ID == "" {
		p.log.Warn("idp: authorization code replayed; its tokens are revoked", "client", svc.ClientID, "family", replayed)
		return nil, invalidGrant("the code was already used")
	}
	return p.mint(svc, person, grant, ar.Scopes, ar.AuthTime, ar.AMR, ar.Nonce, ar.SID, familyID, refresh)
}

func isExpectedConsume(err error) bool {
	return errors.Is(err, store.ErrTokenUsed) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrTokenExpired)
}

func (p *Provider) familyTTL(svc store.Service) time.Duration {
	if svc.RefreshTokens {
		return p.cfg.RefreshTTL
	}
	return p.cfg.AccessTTL
}

func (p *Provider) alg(svc store.Service) string {
	if svc.SigningAlg == AlgES256 {
		return AlgES256
	}
	return AlgRS256
}

// mint signs the access and ID tokens of a family; amr is how the person
// logged in (the ID token's amr, and acr derived from it).
func (p *Provider) mint(svc store.Service, person store.Person, grant store.Grant, scopes []string, authTime time.Time,
	amr []string, nonce, sid, familyID, refresh string) (*tokenResponse, error) {
	now := p.now()
	exp := now.Add(p.cfg.AccessTTL)
	alg := p.alg(svc)
	// Access tokens are read only by sesame's userinfo: ES256, the cheaper
	// signature, whatever the client's ID token algorithm.
	scope := strings.Join(scopes, " ")
	access, _, err := p.sign(AlgES256, "at+jwt", accessClaims{
		Issuer: p.issuer, Subject: person.ID, Audience: svc.ClientID, ClientID: svc.ClientID, IssuedAt: now.Unix(),
		Expiry: exp.Unix(), ID: randomID(16), Scope: scope, Family: familyID,
	})
	if err != nil {
		return nil, err
	}
	if len(amr) == 0 {
		amr = []string{amrPassword} // a session from before amr was recorded: a password login
	}
	idToken, _, err := p.sign(alg, "JWT", idTokenClaims{
		Issuer: p.issuer, Audience: svc.ClientID, AuthorizedParty: svc.ClientID,
		IssuedAt: now.Unix(), Expiry: exp.Unix(), AuthTime: authTime.Unix(), AccessTokenHash: atHash(access),
		AMR: amr, ACR: acrOf(amr), Nonce: nonce, SessionID: sid,
		userClaims: claimsFor(person, svc, grant, scopes),
	})
	if err != nil {
		return nil, err
	}
	return &tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(p.cfg.AccessTTL.Seconds()),
		IDToken: idToken, Scope: scope, RefreshToken: refresh}, nil
}

// refresh rotates a refresh token. A token used twice revokes its family: of
// twenty concurrent uses, exactly one gets tokens.
func (p *Provider) refresh(ctx context.Context, svc store.Service, form url.Values) (*tokenResponse, error) {
	if !svc.RefreshTokens {
		return nil, &oauthError{http.StatusBadRequest, "unauthorized_client", "this client does not use refresh tokens"}
	}
	token := form.Get("refresh_token")
	if token == "" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "refresh_token is missing"}
	}
	now := p.now()
	var (
		fam     store.TokenFamily
		person  store.Person
		grant   store.Grant
		next    string
		revoked bool
		scopes  []string
	)
	err := p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		revoked, next = false, ""
		rt, err := tx.UseRefreshToken(ctx, sha(token), now)
		switch {
		case errors.Is(err, store.ErrTokenUsed):
			// Reuse: the token leaked or two clients race; the family dies.
			// Committed (nil) so the revocation holds, then refused below.
			if _, err := tx.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{ID: rt.FamilyID}, now); err != nil {
				return err
			}
			revoked = true
			return nil
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrTokenExpired):
			return invalidGrant("the refresh token is invalid or expired")
		case err != nil:
			return err
		}
		if fam, err = tx.GetTokenFamily(ctx, rt.FamilyID); err != nil {
			return err
		}
		if fam.ClientID != svc.ClientID {
			return invalidGrant("the refresh token was issued to another client")
		}
		if !fam.RevokedAt.IsZero() || !now.Before(fam.ExpiresAt) {
			return invalidGrant("the refresh token was revoked")
		}
		scopes = fam.Scopes
		if s := form.Get("scope"); s != "" {
			scopes = nil
			for _, sc := range strings.Fields(s) {
				if !slices.Contains(fam.Scopes, sc) {
					return &oauthError{http.StatusBadRequest, "invalid_scope", "a refresh cannot widen the scopes"}
				}
				scopes = append(scopes, sc)
			}
		}
		person, grant, err = grantFor(ctx, tx, fam.PersonID, svc)
		var oe *oauthError
		if errors.As(err, &oe) {
			// A disabled person or a removed grant: the family dies now.
			if _, err := tx.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{ID: fam.ID}, now); err != nil {
				return err
			}
			revoked = true
			return nil
		}
		if err != nil {
			return err
		}
		next = randomID(32)
		return tx.CreateRefreshToken(ctx, store.RefreshToken{Hash: sha(next), FamilyID: fam.ID, ExpiresAt: fam.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	if revoked {
		p.log.Warn("idp: refresh refused; token family revoked", "client", svc.ClientID, "family", fam.ID)
		return nil, invalidGrant("the refresh token is no longer valid")
	}
	return p.mint(svc, person, grant, scopes, fam.AuthTime, fam.AMR, "", fam.SID, fam.ID, next)
}

// errUnauthorized is answered by userinfo with WWW-Authenticate.
var errUnauthorized = errors.New("idp: invalid access token")

// checkAccessToken verifies a bearer token and that its family, person and
// grant still hold.
func (p *Provider) checkAccessToken(ctx context.Context, token string) (store.Person, store.Service, store.Grant, []string, error) {
	claims, err := p.verify(token, "at+jwt", false)
	if err != nil {
		return store.Person{}, store.Service{}, store.Grant{}, nil, fmt.Errorf("%w: %w", errUnauthorized, err)
	}
	famID, clientID, scope := claims.Family, claims.ClientID, claims.Scope
	var (
		person store.Person
		svc    store.Service
		grant  store.Grant
	)
	err = p.tx(ctx, func(ctx context.Context, tx store.Tx) error {
		fam, err := tx.GetTokenFamily(ctx, famID)
		if err != nil {
			return err
		}
		if !fam.RevokedAt.IsZero() || fam.ClientID != clientID {
			return errUnauthorized
		}
		if svc, err = tx.GetServiceByClientID(ctx, clientID); err != nil {
			return err
		}
		person, grant, err = grantFor(ctx, tx, fam.PersonID, svc)
		return err
	})
	var oe *oauthError
	if errors.Is(err, store.ErrNotFound) || errors.As(err, &oe) {
		err = errUnauthorized
	}
	return person, svc, grant, strings.Fields(scope), err
}

func (p *Provider) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	token := ""
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		token = strings.TrimSpace(h[7:])
	} else if r.Method == http.MethodPost {
		if err := web.ParseForm(w, r); err != nil {
			p.writeOAuthError(w, formOAuthError(err))
			return
		}
		token = r.PostForm.Get("access_token")
	}
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sesame"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "no access token"})
		return
	}
	person, svc, grant, scopes, err := p.checkAccessToken(r.Context(), token)
	if errors.Is(err, errUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sesame", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "the access token is invalid, expired or revoked"})
		return
	}
	if err != nil {
		p.log.Error("idp: userinfo", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	claims := claimsFor(person, svc, grant, scopes)
	if apps.Of(svc).ProfileClaim && claims.Name != "" {
		claims.Profile = &profileClaim{Name: claims.Name}
	}
	writeJSON(w, http.StatusOK, claims)
}
