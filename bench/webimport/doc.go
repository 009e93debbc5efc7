// Package webimport measures the web import (issue 12): the upload and the
// preview of a 5,000-row spreadsheet through web.ImportPages, against the
// CLI's dry run of the same file (onboarding.Importer, as `sesame import
// --dry-run` runs it), each in a child process so that its peak resident
// memory is its own. It holds only benchmarks; see docs/performance.md,
// "Web import".
package webimport
