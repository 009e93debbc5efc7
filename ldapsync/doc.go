// Package ldapsync brings sesame's OpenLDAP directory to the desired state
// held by the store.
//
// It owns the directory layout (ou=people with one inetOrgPerson per person,
// ou=structures with one organization per structure and one groupOfNames per
// service and per service role), the escaping of every DN and filter value it
// builds, the translation of the store's state into LDAP operations that
// compare first and modify only what differs, the writing of password hashes
// ({ARGON2} values: plaintext never reaches this package), the full reconcile
// behind `sesame ldap diff` and `sesame ldap sync`, the `sesame ldap check`
// probes, and the handlers of the ldap.person and ldap.structure jobs.
//
// Only entries sesame created are managed: they carry the marker
// businessCategory=sesame. Entries without it are never modified or deleted;
// a foreign entry in the way of a person is reported as a conflict.
//
// All directory traffic goes through the small Directory interface; Conn is
// its implementation over github.com/go-ldap/ldap/v3: a small pool of bound
// connections, one per operation in flight, each step under a deadline.
// Connection failures and timeouts are reported as ErrUnavailable so the job
// queue retries them with backoff; an entry the directory refuses for its own
// data is reported (RefusedError, ErrRejected) without stopping the others.
package ldapsync
