// Package manage holds the administration operations that the command line
// (cmd/sesame) and the admin pages (web) share: hoster admins, structure
// referents, a person's name and email, disabling, enabling and deleting a
// person, sending an activation link again, changing or removing a
// structure, removing a service and retrying a failed job.
//
// Each operation runs in one store transaction that also writes its audit
// entry and queues the jobs that bring the directory, the applications and
// the mailboxes to the new state (the transactional outbox the import
// uses). Who may run an operation is not decided here: the CLI is the
// hoster's, and the web pages ask web.Authorize first.
package manage
