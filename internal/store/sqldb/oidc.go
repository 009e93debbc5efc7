package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"sesame/internal/store"
)

var _ store.OIDC = (*Tx)(nil)

// ---- signing keys

const signingKeyCols = "kid, alg, private_key, not_before, retire_after, created_at"

func scanSigningKey(s scanner) (store.SigningKey, error) {
	var k store.SigningKey
	err := s.Scan(&k.KID, &k.Alg, bs(&k.PrivateKey), ts(&k.NotBefore), ts(&k.RetireAfter), ts(&k.CreatedAt))
	return k, err
}

// CreateSigningKey inserts k, filling CreatedAt.
func (t *Tx) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	if k.KID == "" || k.Alg == "" || len(k.PrivateKey) == 0 {
		return invalid("create signing key: kid, alg and key are required")
	}
	v := *k
	v.CreatedAt = t.db.now()
	err := t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO oidc_signing_keys ("+signingKeyCols+") VALUES (?, ?, ?, ?, ?, ?)",
				v.KID, v.Alg, v.PrivateKey, e.tv(v.NotBefore), e.tv(v.RetireAfter), e.tv(v.CreatedAt))
			return e.wrap(err, "create signing key %q", v.KID)
		})
	})
	if err == nil {
		v.NotBefore, v.RetireAfter = norm(v.NotBefore), norm(v.RetireAfter)
		*k = v
	}
	return err
}

// ListSigningKeys returns every key, oldest NotBefore first.
func (t *Tx) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	var out []store.SigningKey
	err := t.single(ctx, func(e *ex) error {
		rows, err := e.query(ctx, "SELECT "+signingKeyCols+" FROM oidc_signing_keys ORDER BY not_before, kid")
		out, err = collect(rows, err, scanSigningKey)
		return e.wrap(err, "list signing keys")
	})
	return out, err
}

// RetireSigningKey sets the key's RetireAfter.
func (t *Tx) RetireSigningKey(ctx context.Context, kid string, retireAfter time.Time) error {
	return t.run(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "UPDATE oidc_signing_keys SET retire_after = ? WHERE kid = ?", e.tv(retireAfter), kid)
		if err != nil {
			return e.wrap(err, "retire signing key %q", kid)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return e.wrap(store.ErrNotFound, "retire signing key %q", kid)
		}
		return nil
	})
}

// DeleteSigningKeysRetiredBefore removes keys retired before at.
func (t *Tx) DeleteSigningKeysRetiredBefore(ctx context.Context, at time.Time) (int, error) {
	var n int64
	err := t.run(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM oidc_signing_keys WHERE retire_after IS NOT NULL AND retire_after < ?", e.tv(at))
		if err != nil {
			return e.wrap(err, "delete retired signing keys")
		}
		n, err = res.RowsAffected()
		return e.wrap(err, "delete retired signing keys")
	})
	return int(n), err
}

// ---- authorization requests

const authRequestCols = "id, client_id, redirect_uri, scopes, state, nonce, code_challenge, code_challenge_method, " +
	"response_type, prompt, max_age, browser_hash, person_id, auth_time, sid, amr, require_mfa, done, expires_at, created_at"

func scanAuthRequest(s scanner) (store.AuthRequest, error) {
	var a store.AuthRequest
	err := s.Scan(&a.ID, &a.ClientID, &a.RedirectURI, js(&a.Scopes), &a.State, &a.Nonce, &a.CodeChallenge,
		&a.CodeChallengeMethod, &a.ResponseType, js(&a.Prompt), &a.MaxAge, bs(&a.BrowserHash), &a.PersonID,
		ts(&a.AuthTime), &a.SID, js(&a.AMR), &a.RequireMFA, &a.Done, ts(&a.ExpiresAt), ts(&a.CreatedAt))
	return a, err
}

func authRequestArgs(e *ex, a store.AuthRequest) ([]any, error) {
	scopes, err := jv(a.Scopes)
	if err != nil {
		return nil, err
	}
	prompt, err := jv(a.Prompt)
	if err != nil {
		return nil, err
	}
	amr, err := jv(a.AMR)
	if err != nil {
		return nil, err
	}
	return []any{a.ClientID, a.RedirectURI, scopes, a.State, a.Nonce, a.CodeChallenge, a.CodeChallengeMethod,
		a.ResponseType, prompt, a.MaxAge, a.BrowserHash, a.PersonID, e.tv(a.AuthTime), a.SID, amr, a.RequireMFA,
		a.Done, e.tv(a.ExpiresAt)}, nil
}

// CreateAuthRequest inserts r, filling CreatedAt.
func (t *Tx) CreateAuthRequest(ctx context.Context, r *store.AuthRequest) error {
	if r.ID == "" || r.ExpiresAt.IsZero() {
		return invalid("create auth request: id and expiry are required")
	}
	v := *r
	v.CreatedAt = t.db.now()
	err := t.run(ctx, func(e *ex) error {
		args, err := authRequestArgs(e, v)
		if err != nil {
			return err
		}
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO oidc_auth_requests ("+authRequestCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				append(append([]any{v.ID}, args...), e.tv(v.CreatedAt))...)
			return e.wrap(err, "create auth request")
		})
	})
	if err == nil {
		v.AuthTime, v.ExpiresAt = norm(v.AuthTime), norm(v.ExpiresAt)
		*r = v
	}
	return err
}

// GetAuthRequest returns an authorization request by id.
func (t *Tx) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	return one(ctx, t, scanAuthRequest, "SELECT "+authRequestCols+" FROM oidc_auth_requests WHERE id = ?", id, "get auth request")
}

// UpdateAuthRequest reads the request, hands it to fn and writes back what
// fn left, atomically.
func (t *Tx) UpdateAuthRequest(ctx context.Context, id string, fn func(*store.AuthRequest) error) (store.AuthRequest, error) {
	var v store.AuthRequest
	err := t.run(ctx, func(e *ex) error {
		old, err := scanAuthRequest(e.row(ctx, "SELECT "+authRequestCols+" FROM oidc_auth_requests WHERE id = ?", id))
		if err != nil {
			return e.wrap(err, "update auth request")
		}
		v = old
		if err := fn(&v); err != nil {
			return err
		}
		if v.ID != old.ID {
			return invalid("update auth request: the id cannot change")
		}
		v.CreatedAt = old.CreatedAt
		args, err := authRequestArgs(e, v)
		if err != nil {
			return err
		}
		_, err = e.exec(ctx, "UPDATE oidc_auth_requests SET client_id = ?, redirect_uri = ?, scopes = ?, state = ?, nonce = ?, "+
			"code_challenge = ?, code_challenge_method = ?, response_type = ?, prompt = ?, max_age = ?, browser_hash = ?, "+
			"person_id = ?, auth_time = ?, sid = ?, amr = ?, require_mfa = ?, done = ?, expires_at = ? WHERE id = ?", append(args, id)...)
		return e.wrap(err, "update auth request")
	})
	if err != nil {
		return store.AuthRequest{}, err
	}
	v.AuthTime, v.ExpiresAt = norm(v.AuthTime), norm(v.ExpiresAt)
	return v, nil
}

// ---- authorization codes

const authCodeCols = "hash, auth_request_id, client_id, expires_at, used_at, family_id, created_at"

func scanAuthCode(s scanner) (store.AuthCode, error) {
	var c store.AuthCode
	err := s.Scan(bs(&c.Hash), &c.AuthRequestID, &c.ClientID, ts(&c.ExpiresAt), ts(&c.UsedAt), &c.FamilyID, ts(&c.CreatedAt))
	return c, err
}

// CreateAuthCode inserts c, filling CreatedAt.
func (t *Tx) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	if len(c.Hash) == 0 || c.ExpiresAt.IsZero() {
		return invalid("create auth code: hash and expiry are required")
	}
	return t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO oidc_auth_codes ("+authCodeCols+") VALUES (?, ?, ?, ?, NULL, '', ?)",
				c.Hash, c.AuthRequestID, c.ClientID, e.tv(c.ExpiresAt), e.tv(t.db.now()))
			return e.wrap(err, "create auth code")
		})
	})
}

// ConsumeAuthCode marks the code used and records familyID in one
// conditional UPDATE: of concurrent callers exactly one changes the row,
// and gets it back from the same statement (RETURNING). Only a refused
// code is read again, to tell a used one from an expired or unknown one.
func (t *Tx) ConsumeAuthCode(ctx context.Context, hash []byte, familyID string, now time.Time) (store.AuthCode, error) {
	var c store.AuthCode
	err := t.run(ctx, func(e *ex) error {
		var err error
		c, err = scanAuthCode(e.row(ctx, "UPDATE oidc_auth_codes SET used_at = ?, family_id = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING "+authCodeCols,
			e.tv(now), familyID, hash, e.tv(now)))
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return e.wrap(err, "consume auth code")
		}
		if c, err = scanAuthCode(e.row(ctx, "SELECT "+authCodeCols+" FROM oidc_auth_codes WHERE hash = ?", hash)); err != nil {
			return e.wrap(err, "consume auth code")
		}
		if !c.UsedAt.IsZero() {
			return e.wrap(store.ErrTokenUsed, "consume auth code")
		}
		return e.wrap(store.ErrTokenExpired, "consume auth code")
	})
	return c, err
}

// ---- SSO sessions

const ssoSessionCols = "hash, sid, person_id, auth_time, amr, created_at, last_seen_at, idle_expires_at, expires_at, clients"

func scanSSOSession(s scanner) (store.SSOSession, error) {
	var v store.SSOSession
	err := s.Scan(bs(&v.Hash), &v.SID, &v.PersonID, ts(&v.AuthTime), js(&v.AMR), ts(&v.CreatedAt), ts(&v.LastSeenAt),
		ts(&v.IdleExpiresAt), ts(&v.ExpiresAt), js(&v.Clients))
	return v, err
}

// CreateSSOSession inserts s.
func (t *Tx) CreateSSOSession(ctx context.Context, s *store.SSOSession) error {
	if len(s.Hash) == 0 || s.SID == "" || s.ExpiresAt.IsZero() {
		return invalid("create sso session: hash, sid and expiry are required")
	}
	v := *s
	if v.CreatedAt.IsZero() {
		v.CreatedAt = t.db.now()
	}
	clients, err := jv(v.Clients)
	if err != nil {
		return err
	}
	amr, err := jv(v.AMR)
	if err != nil {
		return err
	}
	err = t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO oidc_sessions ("+ssoSessionCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				v.Hash, v.SID, v.PersonID, e.tv(v.AuthTime), amr, e.tv(v.CreatedAt), e.tv(v.LastSeenAt), e.tv(v.IdleExpiresAt),
				e.tv(v.ExpiresAt), clients)
			return e.wrap(err, "create sso session")
		})
	})
	if err == nil {
		*s = v
	}
	return err
}

// GetSSOSession returns a session by hash.
func (t *Tx) GetSSOSession(ctx context.Context, hash []byte) (store.SSOSession, error) {
	return one(ctx, t, scanSSOSession, "SELECT "+ssoSessionCols+" FROM oidc_sessions WHERE hash = ?", hash, "get sso session")
}

// GetSSOSessionBySID returns a session by its public id.
func (t *Tx) GetSSOSessionBySID(ctx context.Context, sid string) (store.SSOSession, error) {
	return one(ctx, t, scanSSOSession, "SELECT "+ssoSessionCols+" FROM oidc_sessions WHERE sid = ?", sid, "get sso session by sid")
}

// TouchSSOSession moves the idle expiry and records clientID.
func (t *Tx) TouchSSOSession(ctx context.Context, hash []byte, lastSeen, idleExpires time.Time, clientID string) error {
	return t.run(ctx, func(e *ex) error {
		s, err := scanSSOSession(e.row(ctx, "SELECT "+ssoSessionCols+" FROM oidc_sessions WHERE hash = ?", hash))
		if err != nil {
			return e.wrap(err, "touch sso session")
		}
		if clientID != "" && !slices.Contains(s.Clients, clientID) {
			s.Clients = append(s.Clients, clientID)
		}
		clients, err := jv(s.Clients)
		if err != nil {
			return err
		}
		_, err = e.exec(ctx, "UPDATE oidc_sessions SET last_seen_at = ?, idle_expires_at = ?, clients = ? WHERE hash = ?",
			e.tv(lastSeen), e.tv(idleExpires), clients, hash)
		return e.wrap(err, "touch sso session")
	})
}

// DeleteSSOSession removes a session and returns it.
func (t *Tx) DeleteSSOSession(ctx context.Context, hash []byte) (store.SSOSession, error) {
	var v store.SSOSession
	err := t.run(ctx, func(e *ex) error {
		var err error
		if v, err = scanSSOSession(e.row(ctx, "SELECT "+ssoSessionCols+" FROM oidc_sessions WHERE hash = ?", hash)); err != nil {
			return e.wrap(err, "delete sso session")
		}
		_, err = e.exec(ctx, "DELETE FROM oidc_sessions WHERE hash = ?", hash)
		return e.wrap(err, "delete sso session")
	})
	return v, err
}

// DeletePersonSSOSessions removes every session of a person and returns
// them.
func (t *Tx) DeletePersonSSOSessions(ctx context.Context, personID string) ([]store.SSOSession, error) {
	var out []store.SSOSession
	err := t.run(ctx, func(e *ex) error {
		rows, err := e.query(ctx, "SELECT "+ssoSessionCols+" FROM oidc_sessions WHERE person_id = ? ORDER BY created_at", personID)
		if out, err = collect(rows, err, scanSSOSession); err != nil {
			return e.wrap(err, "delete sessions of person")
		}
		_, err = e.exec(ctx, "DELETE FROM oidc_sessions WHERE person_id = ?", personID)
		return e.wrap(err, "delete sessions of person")
	})
	return out, err
}

// ---- token families and refresh tokens

const tokenFamilyCols = "id, client_id, person_id, sid, scopes, auth_time, amr, expires_at, revoked_at, created_at"

func scanTokenFamily(s scanner) (store.TokenFamily, error) {
	var f store.TokenFamily
	err := s.Scan(&f.ID, &f.ClientID, &f.PersonID, &f.SID, js(&f.Scopes), ts(&f.AuthTime), js(&f.AMR), ts(&f.ExpiresAt),
		ts(&f.RevokedAt), ts(&f.CreatedAt))
	return f, err
}

// CreateTokenFamily inserts f, filling CreatedAt.
func (t *Tx) CreateTokenFamily(ctx context.Context, f *store.TokenFamily) error {
	if f.ID == "" || f.ExpiresAt.IsZero() {
		return invalid("create token family: id and expiry are required")
	}
	v := *f
	v.CreatedAt = t.db.now()
	scopes, err := jv(v.Scopes)
	if err != nil {
		return err
	}
	amr, err := jv(v.AMR)
	if err != nil {
		return err
	}
	err = t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO oidc_token_families ("+tokenFamilyCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				v.ID, v.ClientID, v.PersonID, v.SID, scopes, e.tv(v.AuthTime), amr, e.tv(v.ExpiresAt), e.tv(v.RevokedAt), e.tv(v.CreatedAt))
			return e.wrap(err, "create token family")
		})
	})
	if err == nil {
		*f = v
	}
	return err
}

// GetTokenFamily returns a family by id.
func (t *Tx) GetTokenFamily(ctx context.Context, id string) (store.TokenFamily, error) {
	return one(ctx, t, scanTokenFamily, "SELECT "+tokenFamilyCols+" FROM oidc_token_families WHERE id = ?", id, "get token family")
}

// RevokeTokenFamilies marks the matching families revoked.
func (t *Tx) RevokeTokenFamilies(ctx context.Context, f store.TokenFamilyFilter, now time.Time) (int, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, val string }{{"id", f.ID}, {"person_id", f.PersonID}, {"sid", f.SID}} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if len(where) == 0 {
		return 0, invalid("revoke token families: empty filter")
	}
	if f.ExceptSID != "" {
		where = append(where, "sid <> ?")
		args = append(args, f.ExceptSID)
	}
	var n int64
	err := t.run(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "UPDATE oidc_token_families SET revoked_at = ? WHERE revoked_at IS NULL AND "+strings.Join(where, " AND "),
			append([]any{e.tv(now)}, args...)...)
		if err != nil {
			return e.wrap(err, "revoke token families")
		}
		n, err = res.RowsAffected()
		return e.wrap(err, "revoke token families")
	})
	return int(n), err
}

// CreateRefreshToken inserts t; an unknown family gives ErrNotFound.
func (t *Tx) CreateRefreshToken(ctx context.Context, rt store.RefreshToken) error {
	if len(rt.Hash) == 0 || rt.ExpiresAt.IsZero() {
		return invalid("create refresh token: hash and expiry are required")
	}
	return t.run(ctx, func(e *ex) error {
		var one int
		if err := e.row(ctx, "SELECT 1 FROM oidc_token_families WHERE id = ?", rt.FamilyID).Scan(&one); err != nil {
			return e.wrap(err, "create refresh token: family %q", rt.FamilyID)
		}
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO oidc_refresh_tokens (hash, family_id, expires_at, used_at, created_at) VALUES (?, ?, ?, NULL, ?)",
				rt.Hash, rt.FamilyID, e.tv(rt.ExpiresAt), e.tv(t.db.now()))
			return e.wrap(err, "create refresh token")
		})
	})
}

// UseRefreshToken marks the token used in one conditional UPDATE, which
// returns the row (RETURNING); only a refused token is read again.
func (t *Tx) UseRefreshToken(ctx context.Context, hash []byte, now time.Time) (store.RefreshToken, error) {
	var rt store.RefreshToken
	const cols = "hash, family_id, expires_at, used_at, created_at"
	err := t.run(ctx, func(e *ex) error {
		scan := func(r *sql.Row) error {
			return r.Scan(bs(&rt.Hash), &rt.FamilyID, ts(&rt.ExpiresAt), ts(&rt.UsedAt), ts(&rt.CreatedAt))
		}
		err := scan(e.row(ctx, "UPDATE oidc_refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING "+cols,
			e.tv(now), hash, e.tv(now)))
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return e.wrap(err, "use refresh token")
		}
		if err := scan(e.row(ctx, "SELECT "+cols+" FROM oidc_refresh_tokens WHERE hash = ?", hash)); err != nil {
			return e.wrap(err, "use refresh token")
		}
		if !rt.UsedAt.IsZero() {
			return e.wrap(store.ErrTokenUsed, "use refresh token")
		}
		return e.wrap(store.ErrTokenExpired, "use refresh token")
	})
	return rt, err
}

// DeleteExpiredOIDC removes what expired before now.
func (t *Tx) DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error) {
	var total int64
	err := t.run(ctx, func(e *ex) error {
		total = 0
		nowV := e.tv(now)
		for _, q := range []string{
			"DELETE FROM oidc_refresh_tokens WHERE expires_at < ? OR family_id IN (SELECT id FROM oidc_token_families WHERE expires_at < ?)",
			"DELETE FROM oidc_token_families WHERE expires_at < ?",
			"DELETE FROM oidc_auth_codes WHERE expires_at < ?",
			"DELETE FROM oidc_auth_requests WHERE expires_at < ?",
			"DELETE FROM oidc_sessions WHERE expires_at < ? OR idle_expires_at < ?",
		} {
			args := []any{nowV}
			if strings.Count(q, "?") == 2 {
				args = append(args, nowV)
			}
			res, err := e.exec(ctx, q, args...)
			if err != nil {
				return e.wrap(err, "delete expired oidc rows")
			}
			n, err := res.RowsAffected()
			if err != nil {
				return e.wrap(err, "delete expired oidc rows")
			}
			total += n
		}
		return nil
	})
	return int(total), err
}
