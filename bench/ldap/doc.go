// Package ldapbench measures ldapsync's convergence against ldapadd on the
// same slapd. It holds only benchmarks; see README.md.
package ldapbench
