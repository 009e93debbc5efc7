// Package postgres is the PostgreSQL store backend, for hosters who run
// several sesame processes or already operate PostgreSQL. It goes through
// pgx's database/sql driver; every transaction is SERIALIZABLE and re-run on
// serialization failures and deadlocks; job claims use FOR UPDATE SKIP
// LOCKED so workers in several processes take disjoint jobs.
//
// It owns the PostgreSQL schema (the numbered migrations under migrations/,
// applied under an advisory lock) and the PostgreSQL dialect; every query
// lives in the shared package sqldb.
package postgres
