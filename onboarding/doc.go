// Package onboarding turns a structure's spreadsheet of people and rights
// into accounts.
//
// It owns the CSV contract: decoding (UTF-8 with or without BOM, UTF-16 with
// BOM, UTF-8 but for a few invalid bytes, Windows-1252 otherwise; an Excel
// "sep=" line, delimiter sniffing), a bounded record reader
// (csvreader.go), header aliases in French and English, the rights grammar
// ("service[:role]" items and one column per service), username derivation,
// and validation with row, column and a plain sentence in French or English
// (messages.go): invisible and control characters, plain-ASCII emails (an
// internationalised domain in its xn-- form), look-alike scripts, duplicate
// addresses. ComputePlan compares the parsed rows with the store
// (create, update, unchanged, disable, error) and Importer applies a plan
// in one store transaction, enqueueing the durable jobs (LDAP, activation
// and access emails) that other packages execute. It also owns the
// single-use emailed tokens (tokens.go).
//
// Rules worth knowing:
//   - A file with a rights column or a service column states the complete
//     rights of the people it lists on the structure's services: a right
//     missing from the file is removed. A file with neither leaves rights
//     alone.
//   - Empty cells never erase a name, a language or a quota.
//   - A person known from another structure is linked (a membership), never
//     duplicated; the report shows no value the other structure wrote, and
//     personal fields are only updated by an import when the importing
//     structure is the person's only one, so two structures' files never
//     undo each other.
//   - Only --mode sync removes people from the structure; a person left
//     with no structure is disabled.
//   - What an import costs is bounded by the file's size, whatever its
//     shape (MaxColumns, MaxRowProblems, MaxReportProblems); a dry run
//     keeps only its counts with its record.
//
// The package imports only internal packages: limits and the token key are
// handed to it by the caller.
package onboarding
