// Package apps holds what sesame knows about each kind of application it
// serves (Nextcloud, WordPress, Paheko, and any other OpenID Connect
// client, "generic"): one Kind per kind, in one file each (nextcloud.go,
// wordpress.go, paheko.go, generic.go), holding its roles and their
// aliases, the OpenID Connect client defaults of a new service, the quirks
// of its claims, login and logout, its setup snippet, and its provisioning
// connector. Kinds is the one list of kinds; Lookup and Of find one.
// Adding an application means adding its file and its line in the list
// (kind.go), and its constant in store.ServiceKind.
//
// The provisioning connectors create, update and remove a person's account
// in the application through its own HTTP API, so that the rights of an
// import reach the application before the person's first login.
//
// Each connector (NewNextcloud, NewWordPress, NewPaheko) implements
// Connector:
//
//   - Ensure brings one account to the desired state: it finds the account
//     (by the id an earlier call returned, or by email; Nextcloud by user
//     id), creates it when it is missing, and changes only what differs (a
//     call with nothing to change sends no write). A retried call never
//     creates a second account. WordPress, which refuses a duplicate login or
//     email itself, creates a person it has never seen directly and looks
//     the account up only when refused.
//   - Remove takes the person's access away: WordPress keeps the account but
//     loses every role (its content keeps its author), Nextcloud disables the
//     account, and for Paheko, whose API cannot move a member to another
//     category, the Result says in French and English what the hoster must
//     do by hand.
//   - Check tests the credentials and says in plain words what is missing.
//
// Accounts that sesame did not create (a WordPress administrator made at
// install time, a Paheko member entered by hand, a Nextcloud user of another
// backend) are found by email or id and linked, but never renamed, demoted
// or disabled, unless the service's configuration takes them over
// (Config.TakeOver), just as ldapsync never touches directory entries
// without its mark. Whether sesame created an account is recorded by the
// caller from Result.Owned (and Error.MayHaveCreated when a create got no
// clear answer) and given back in Account.Owned.
//
// Failures are *Error values that keep the application's own code and
// message and say whether retrying can help (IsRetryable): no answer, a
// timeout, 408, 429 and 5xx are retryable; refused credentials, missing
// permissions and invalid input are not.
//
// The package uses only the standard library's net/http: one http.Client
// (and connection pool) per connector, keep-alive reused, redirects never
// followed (a POST silently turned into a GET would create nothing, and the
// credentials must not go to another address). Connectors are safe for
// concurrent use.
package apps
