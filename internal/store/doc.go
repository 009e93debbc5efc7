// Package store is sesame's contract for persistence: the domain types
// (structures, services, people, memberships, grants, tokens, imports, audit
// entries and durable jobs), one small interface per entity, and the sentinel
// errors every backend returns.
//
// It imports nothing but the standard library. The backends live in
// subpackages: sqlite (the embedded default) and postgres, both built on the
// shared SQL code in sqldb. The conformance suite in storetest runs against
// every backend, so a behaviour is only "the store's" when both pass it.
//
// The store holds the desired state. Everything downstream (the LDAP
// directory, applications, outgoing mail) is brought to that state by jobs
// enqueued in the same transaction as the change that needs them.
package store
