package idp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"sesame/internal/apps"
	"sesame/internal/store"
)

// userClaims are the claims about a person for one service: the ID token
// and userinfo carry the same (INTEGRATIONS.md: Nextcloud reads the ID
// token only), userinfo adds Profile for the kinds that read it.
type userClaims struct {
	Subject           string `json:"sub"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Name              string `json:"name,omitempty"`
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	Locale            string `json:"locale,omitempty"`
	Email             string `json:"email,omitempty"`
	// EmailVerified is present whenever Email is.
	EmailVerified *bool `json:"email_verified,omitempty"`
	// Groups is always present: the person's role on the service, or an
	// empty list when they have none.
	Groups []string `json:"groups"`
	// Quota is Nextcloud's (user_oidc maps the quota claim).
	Quota string `json:"quota,omitempty"`
	// Profile is Paheko's profile.name (userinfo only, apps.Kind.ProfileClaim).
	Profile *profileClaim `json:"profile,omitempty"`
}

type profileClaim struct {
	Name string `json:"name"`
}

// idTokenClaims are an ID token's.
type idTokenClaims struct {
	Issuer          string   `json:"iss"`
	Audience        string   `json:"aud"`
	AuthorizedParty string   `json:"azp"`
	IssuedAt        int64    `json:"iat"`
	Expiry          int64    `json:"exp"`
	AuthTime        int64    `json:"auth_time"`
	AccessTokenHash string   `json:"at_hash"`
	AMR             []string `json:"amr"`
	ACR             string   `json:"acr"`
	Nonce           string   `json:"nonce,omitempty"`
	SessionID       string   `json:"sid,omitempty"`
	userClaims
}

// accessClaims are an access token's (RFC 9068), read back only by
// sesame's userinfo.
type accessClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	ClientID string `json:"client_id"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
	Scope    string `json:"scope"`
	// Family is the refresh token family the token was minted for: a
	// revoked family's access tokens are refused at userinfo.
	Family string `json:"fam"`
}

// logoutClaims are a back-channel logout token's (OpenID Connect
// Back-Channel Logout 1.0, section 2.4).
type logoutClaims struct {
	Issuer    string              `json:"iss"`
	Audience  string              `json:"aud"`
	IssuedAt  int64               `json:"iat"`
	Expiry    int64               `json:"exp"`
	ID        string              `json:"jti"`
	Events    map[string]struct{} `json:"events"`
	Subject   string              `json:"sub,omitempty"`
	SessionID string              `json:"sid,omitempty"`
}

// readClaims are what sesame reads back from a token it signed: an ID
// token given as id_token_hint, or an access token at userinfo.
type readClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	Expiry    int64    `json:"exp"`
	SessionID string   `json:"sid"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope"`
	Family    string   `json:"fam"`
}

// fresh says whether the token has not expired at now; a token without
// exp is not fresh.
func (c *readClaims) fresh(now time.Time) bool {
	return c.Expiry != 0 && now.Before(time.Unix(c.Expiry, 0))
}

// audience is aud: one string or a list of them (RFC 7519, section 4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("aud: neither a string nor a list of strings")
	}
	*a = list
	return nil
}

// tokenResponse is the token endpoint's answer (RFC 6749, section 5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// claimsFor gives the claims about person for svc, by scope.
func claimsFor(person store.Person, svc store.Service, grant store.Grant, scopes []string) userClaims {
	c := userClaims{Subject: person.ID, Groups: []string{}}
	has := func(s string) bool { return slices.Contains(scopes, s) }
	if has("profile") {
		c.PreferredUsername = person.Username
		c.Name = strings.TrimSpace(person.DisplayName)
		if c.Name == "" {
			c.Name = strings.TrimSpace(person.GivenName + " " + person.FamilyName)
		}
		c.GivenName, c.FamilyName, c.Locale = person.GivenName, person.FamilyName, person.Language
	}
	if has("email") && person.Email != "" {
		c.Email = person.Email
		// An active person proved the address by following the activation link.
		verified := person.State == store.StateActive
		c.EmailVerified = &verified
	}
	if grant.Role != "" {
		c.Groups = []string{grant.Role}
	}
	if apps.Of(svc).QuotaClaim {
		c.Quota = person.Quota
	}
	return c
}
