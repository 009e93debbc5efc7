// Package importbench measures how an import copes with hostile
// spreadsheets: very wide headers and rows, very long lines, many rows full
// of problems, one huge cell, millions of tiny rows. Each case runs a dry-run
// import of a generated file in a child process (so that its peak resident
// memory is its own) and compares it with plain encoding/csv reading the
// same bytes. It holds only benchmarks; see docs/performance.md, "Hostile
// spreadsheets".
package importbench
