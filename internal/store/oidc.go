package store

import (
	"context"
	"time"
)

// SigningKey is one of the OpenID provider's signing keys. The private key is
// encrypted by the caller (the store never sees it in clear).
type SigningKey struct {
	KID        string // unique key id, put in every JWS header
	Alg        string // "RS256" or "ES256"
	PrivateKey []byte // encrypted PKCS #8 DER, opaque to the store
	// NotBefore is when the key starts signing. It is published in the JWKS
	// from creation, so relying parties know it before they meet it.
	NotBefore time.Time
	// RetireAfter, when not zero, is when the key leaves the JWKS: it no
	// longer signs once a newer key of its algorithm is active, and is kept
	// until every token it signed has expired.
	RetireAfter time.Time
	CreatedAt   time.Time
}

// AuthRequest is an OpenID Connect authorization request waiting for a login
// or finished by a code.
type AuthRequest struct {
	ID                  string // random, unguessable
	ClientID            string
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string // "S256" or empty
	ResponseType        string
	Prompt              []string
	MaxAge              int // seconds; -1 when absent
	// BrowserHash is the SHA-256 of the browser cookie that started the
	// request: the login form only finishes a request of the same browser.
	BrowserHash []byte
	PersonID    string    // set once the person is known
	AuthTime    time.Time // when they last entered their password
	SID         string    // the public id of the SSO session it finished in
	// AMR lists how the person proved who they are (RFC 8176 values:
	// "pwd", "otp", "hwk", "user", "mfa"...), copied from the session.
	AMR []string
	// RequireMFA is set when the client asked for (acr_values) or its
	// service requires a session opened with two factors.
	RequireMFA bool
	Done       bool // a code was issued, or access was refused
	ExpiresAt  time.Time
	CreatedAt  time.Time
}

// AuthCode is an authorization code, stored by hash and consumed once.
type AuthCode struct {
	Hash          []byte // SHA-256 of the code
	AuthRequestID string
	ClientID      string
	ExpiresAt     time.Time
	UsedAt        time.Time // zero while unused
	// FamilyID is the token family the exchange created, set when the code is
	// consumed, so that a replay can revoke what it issued.
	FamilyID  string
	CreatedAt time.Time
}

// SSOSession is a person's single sign-on session at the provider. The
// browser holds a random id; the store keeps its SHA-256.
type SSOSession struct {
	Hash     []byte // SHA-256 of the cookie value
	SID      string // the public session id (the sid claim)
	PersonID string
	// AuthTime is when the person last entered their password.
	AuthTime time.Time
	// AMR lists how the person proved who they are at AuthTime (RFC 8176).
	AMR        []string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// IdleExpiresAt moves forward on every use; ExpiresAt never does.
	IdleExpiresAt time.Time
	ExpiresAt     time.Time
	// Clients lists the client ids the session logged into.
	Clients []string
}

// TokenFamily groups the tokens issued from one code exchange and their
// refreshes: revoking the family kills every token of it.
type TokenFamily struct {
	ID        string
	ClientID  string
	PersonID  string
	SID       string // the SSO session's public id
	Scopes    []string
	AuthTime  time.Time
	AMR       []string  // the session's, at the code exchange
	ExpiresAt time.Time // no token of the family lives past it
	RevokedAt time.Time // zero while valid
	CreatedAt time.Time
}

// RefreshToken is one refresh token, stored by hash. It is used once: a
// second use means it leaked, and the family is revoked.
type RefreshToken struct {
	Hash      []byte // SHA-256 of the token
	FamilyID  string
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
	CreatedAt time.Time
}

// SigningKeys keeps the provider's signing keys.
type SigningKeys interface {
	// CreateSigningKey inserts k, filling CreatedAt. A taken kid gives
	// ErrConflict.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every key, oldest NotBefore first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKey sets the key's RetireAfter; ErrNotFound when absent.
	RetireSigningKey(ctx context.Context, kid string, retireAfter time.Time) error
	// DeleteSigningKeysRetiredBefore removes keys retired before t.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int, error)
}

// AuthRequests keeps pending authorization requests.
type AuthRequests interface {
	// CreateAuthRequest inserts r, filling CreatedAt. A taken id gives
	// ErrConflict.
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// UpdateAuthRequest reads the request, hands it to fn and writes back
	// what fn left, atomically. Changing the ID gives ErrInvalid.
	UpdateAuthRequest(ctx context.Context, id string, fn func(*AuthRequest) error) (AuthRequest, error)
}

// AuthCodes keeps authorization codes by hash.
type AuthCodes interface {
	// CreateAuthCode inserts c, filling CreatedAt. A taken hash gives
	// ErrConflict.
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// ConsumeAuthCode marks the code used at now and records familyID,
	// atomically: of any number of concurrent calls, even in two processes,
	// exactly one succeeds. An unknown hash gives ErrNotFound; a code used
	// before gives ErrTokenUsed together with the code as stored (its
	// FamilyID says what to revoke); an expired one ErrTokenExpired.
	ConsumeAuthCode(ctx context.Context, hash []byte, familyID string, now time.Time) (AuthCode, error)
}

// SSOSessions keeps single sign-on sessions by hash.
type SSOSessions interface {
	// CreateSSOSession inserts s. A taken hash or sid gives ErrConflict.
	CreateSSOSession(ctx context.Context, s *SSOSession) error
	// GetSSOSession returns a session by hash, expired or not.
	GetSSOSession(ctx context.Context, hash []byte) (SSOSession, error)
	// GetSSOSessionBySID returns a session by its public id.
	GetSSOSessionBySID(ctx context.Context, sid string) (SSOSession, error)
	// TouchSSOSession sets LastSeenAt and IdleExpiresAt, and adds clientID
	// (when not empty) to the session's clients. ErrNotFound when absent.
	TouchSSOSession(ctx context.Context, hash []byte, lastSeen, idleExpires time.Time, clientID string) error
	// DeleteSSOSession removes a session and returns it; ErrNotFound when
	// absent.
	DeleteSSOSession(ctx context.Context, hash []byte) (SSOSession, error)
	// DeletePersonSSOSessions removes every session of a person and returns
	// them.
	DeletePersonSSOSessions(ctx context.Context, personID string) ([]SSOSession, error)
}

// TokenFamilyFilter says which families RevokeTokenFamilies revokes. At
// least one field must be set.
type TokenFamilyFilter struct {
	ID       string
	PersonID string
	SID      string
	// ExceptSID, when set, leaves that session's families alone (it
	// narrows the other fields, and is not enough alone).
	ExceptSID string
}

// TokenFamilies keeps token families and their refresh tokens.
type TokenFamilies interface {
	// CreateTokenFamily inserts f, filling CreatedAt. A taken id gives
	// ErrConflict.
	CreateTokenFamily(ctx context.Context, f *TokenFamily) error
	GetTokenFamily(ctx context.Context, id string) (TokenFamily, error)
	// RevokeTokenFamilies marks every matching family revoked at now (those
	// already revoked keep their time) and returns how many it revoked. An
	// empty filter gives ErrInvalid.
	RevokeTokenFamilies(ctx context.Context, f TokenFamilyFilter, now time.Time) (int, error)
	// CreateRefreshToken inserts t, filling CreatedAt; an unknown family
	// gives ErrNotFound.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// UseRefreshToken marks the token used at now, atomically: of any number
	// of concurrent calls exactly one succeeds. An unknown hash gives
	// ErrNotFound; a token used before gives ErrTokenUsed with the token (its
	// family is then to be revoked); an expired one ErrTokenExpired.
	UseRefreshToken(ctx context.Context, hash []byte, now time.Time) (RefreshToken, error)
}

// OIDC is everything the OpenID provider keeps; it is part of Tx.
type OIDC interface {
	SigningKeys
	AuthRequests
	AuthCodes
	SSOSessions
	TokenFamilies
	// DeleteExpiredOIDC removes auth requests, codes, sessions, families and
	// refresh tokens expired before now, and returns how many rows went.
	DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error)
}
