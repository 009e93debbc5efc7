// Package importbench holds the import benchmarks.
//
// BenchmarkHostile measures how an import copes with hostile spreadsheets:
// very wide headers and rows, very long lines, many rows full of problems,
// one huge cell, millions of tiny rows. Each case runs a dry-run import of
// a generated file in a child process (so that its peak resident memory is
// its own) and compares it with plain encoding/csv reading the same bytes.
// See docs/performance.md, "Hostile spreadsheets".
//
// BenchmarkImportVsRaw measures plan + apply of 10,000 new people through
// the Importer against a plain program inserting the same people,
// memberships and grants, on SQLite and PostgreSQL, in the same run. See
// docs/performance.md, "Import vs raw insert":
//
//	SESAME_TEST_POSTGRES=postgres://... go test -run '^$' -bench ImportVsRaw -benchtime 4x ./bench/import/
//
// It holds only benchmarks.
package importbench
