// Package auditlog answers "who did what, when, from where" over the
// store's audit trail: the query behind `sesame audit` and the admin
// pages' audit view. It resolves a structure's slug and a person's email
// into the ids the trail is filtered by, and the ids an entry names back
// into slugs and emails for display. It imports only internal/store.
package auditlog
