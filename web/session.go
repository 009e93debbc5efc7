package web

import "context"

// SessionEnder ends every single sign-on session of a person. The account
// pages call it after an activation or a password reset, so that a stolen
// session does not survive the new password. The OpenID Connect provider
// (idp) implements it once it keeps sessions; until then NoSessions is used.
type SessionEnder interface {
	EndAllSessions(ctx context.Context, personID string) error
}

// NoSessions is the SessionEnder used while sesame keeps no SSO sessions:
// there is nothing to end, so it does nothing.
type NoSessions struct{}

// EndAllSessions does nothing and returns nil.
func (NoSessions) EndAllSessions(context.Context, string) error { return nil }
