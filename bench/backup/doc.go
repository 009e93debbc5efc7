// Package backupbench measures "sesame backup" (SQLite's VACUUM INTO,
// checked and moved into place) against a plain copy of the database file,
// the floor of any backup, on the same database in the same run. It holds
// only benchmarks; see docs/performance.md, "Scale (issue 13)", "Backups".
package backupbench
