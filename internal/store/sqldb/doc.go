// Package sqldb is the SQL implementation of the store, shared by the SQLite
// and PostgreSQL backends. It is written once over database/sql; what differs
// between the engines (placeholders, error codes, transaction options, the job
// claim query, migration locking) is a small Dialect supplied by the thin
// backend packages internal/store/sqlite and internal/store/postgres.
//
// One type, Tx, carries every store method. Inside DB.InTx it runs its
// statements in the caller's transaction; as the embedded part of DB it runs
// each call in a transaction of its own (re-run on serialization failures),
// so a method added to Tx is available both ways.
//
// Conventions: times are kept in UTC with microsecond precision (the
// precision of PostgreSQL), zero times as NULL; slices and maps as JSON text;
// unique violations become store.ErrConflict, missing rows and missing
// foreign rows store.ErrNotFound, both wrapped with what was being done.
package sqldb
