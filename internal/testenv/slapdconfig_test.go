package testenv

import (
	"strings"
	"testing"
)

// TestTestConfigRefusesDrift: when the example configuration changes so
// that a test substitution no longer applies (a test server would then use
// /var/lib/ldap, or no known root password), building it fails loudly.
func TestTestConfigRefusesDrift(t *testing.T) {
	good := "olcPidFile: /var/run/slapd/slapd.pid\nolcArgsFile: /var/run/slapd/slapd.args\n" +
		"olcSuffix: dc=example,dc=org\nolcRootPW: {ARGON2}X\nolcDbDirectory: /var/lib/ldap\n"
	got, err := testConfig(good, "/tmp/t", "dc=test,dc=org")
	if err != nil {
		t.Fatal(err)
	}
	want := "olcPidFile: /tmp/t/slapd.pid\nolcArgsFile: /tmp/t/slapd.args\nolcSuffix: dc=test,dc=org\n" +
		"olcRootPW: admin\nolcDbDirectory: /tmp/t/data\nolcDbNoSync: TRUE\n"
	if got != want {
		t.Fatalf("testConfig =\n%s\nwant\n%s", got, want)
	}
	for _, drop := range []string{"olcDbDirectory: /var/lib/ldap\n", "olcRootPW: {ARGON2}X\n", "olcPidFile: /var/run/slapd/slapd.pid\n",
		"olcArgsFile: /var/run/slapd/slapd.args\n"} {
		if _, err := testConfig(strings.Replace(good, drop, "", 1), "/tmp/t", "dc=test,dc=org"); err == nil ||
			!strings.Contains(err.Error(), "docs/slapd/slapd.ldif no longer matches") {
			t.Errorf("without %q: %v; want an error naming the example", strings.TrimSpace(drop), err)
		}
	}
}
