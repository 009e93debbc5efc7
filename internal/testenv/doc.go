// Package testenv starts and reaches the real components that sesame's tests
// use: PostgreSQL (a fresh database per test on the server named by
// SESAME_TEST_POSTGRES), OpenLDAP's slapd and mailpit (a throw-away process
// per test, on a free loopback port, in the test's temporary directory),
// and axe-core, the accessibility checker the Chromium tests inject into
// pages. slapd is configured from the project's example configuration in
// docs/slapd. LossySMTP is a minimal SMTP peer for the one fault mailpit
// cannot produce: a message stored whose reply is lost.
//
// When a component is missing the test is skipped, unless
// SESAME_REQUIRE_SERVICES=1 (set by scripts/test in CI), in which case it
// fails loudly. Only test code imports this package.
package testenv
