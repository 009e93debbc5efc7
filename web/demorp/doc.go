// Package demorp is the demonstration relying party of "sesame demo": a
// small OpenID Connect client, written with golang.org/x/oauth2 and
// github.com/coreos/go-oidc/v3 as any application would be, mounted under
// /demo/ in the demo's own server. Its page logs a person in through sesame
// (code flow, PKCE S256, a nonce) and shows the claims of the ID token it
// received, so that a newcomer sees what an application learns of a person.
//
// It holds no session: the claims are shown once, on the callback. It is
// a demonstration, not a model of a production client (its state cookie is
// not signed, only checked against the callback's state).
package demorp
