// Package idp is sesame's OpenID Connect provider: the authorization, token,
// userinfo, JWKS, discovery and end-session endpoints; the clients (which are
// sesame's services); the signing keys and their rotation; the claims each
// client receives; the access check (a person needs a grant on the service
// that asks); and the login, logout and single sign-on session handlers.
//
// It is written over go-jose rather than a provider framework: every rule
// that matters to the three applications sesame serves (PKCE S256 only, a
// code consumed atomically before anything is minted, exact redirect URIs
// with query strings, lenient logout parsing, back-channel logout, claims in
// the ID token) is a few explicit lines here, each with its test.
//
// Its pages (login, no access, logout, logged out, errors) are web's: their
// templates are in web/templates, rendered by the web.Renderer in Config in
// the person's language, with web's security headers and error function.
package idp
