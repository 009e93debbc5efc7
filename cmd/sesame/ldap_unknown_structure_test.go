package main

import (
	"strings"
	"testing"
)

// TestLDAPUnknownStructureIsUsageError: docs/operations.md's exit-status
// table (and sesame --help) make an unknown structure a wrong command line,
// status 2, "so scripts can tell a refused import from a typo". For ldap diff,
// status 1 means "the directory differs": a typo in --structure must not
// read as that. No directory is needed: the slug is checked first.
func TestLDAPUnknownStructureIsUsageError(t *testing.T) {
	cliEnv(t, "")
	t.Setenv("SESAME_LDAP_URL", "ldap://127.0.0.1:1")
	t.Setenv("SESAME_LDAP_BIND_DN", "cn=sesame,dc=example,dc=org")
	t.Setenv("SESAME_LDAP_BIND_PASSWORD", "x")
	t.Setenv("SESAME_LDAP_BASE_DN", "dc=example,dc=org")
	for _, cmd := range []string{"diff", "sync"} {
		code, out, errOut := runCLI(t, "ldap", cmd, "--structure", "nope")
		if code != 2 || !strings.Contains(errOut, `no structure "nope"`) {
			t.Errorf("sesame ldap %s --structure nope: exit %d, want 2\n%s%s", cmd, code, out, errOut)
		}
	}
}
