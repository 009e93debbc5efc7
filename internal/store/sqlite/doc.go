// Package sqlite is the embedded store backend, the default: one database
// file opened with modernc.org/sqlite (pure Go), in WAL mode, with foreign
// keys on and every transaction begun IMMEDIATE, so writers are serialised
// and a transaction never fails half-way for a lock it could not upgrade.
//
// It owns the SQLite schema (the numbered migrations under migrations/) and
// the SQLite dialect; every query lives in the shared package sqldb.
package sqlite
