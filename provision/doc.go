// Package provision brings each person's account in each application
// (Nextcloud, WordPress, Paheko) to the store's state: it is the consumer of
// jobs.KindProvisionAccount, queued in the transaction of the change that
// needs it (an import, a service's new credentials).
//
// A job reads the current state when it runs: the person, their grant on
// the service, and the last recorded provision (the application's id for the
// account and whether sesame created it). It then calls the kind's connector
// (internal/apps): Ensure while the person holds a grant and is enabled,
// Remove when an account is known but the grant or the person is gone. The
// outcome is recorded as a store.Provision (done, failed with the
// application's own message, or manual with the step the hoster must take),
// which `sesame user show` and the web administration display.
//
// An application that does not answer, or answers "later", leaves the job
// to the runner's retries with backoff; a refusal (credentials, permission,
// invalid input) buries the job at once with the reason, since retrying
// cannot help until someone acts. One refused person never blocks another:
// each (person, service) is its own job.
//
// The application's API credentials are stored in the service, sealed with
// a key derived from the master key (internal/secretbox), bound to the
// service's id.
package provision
