package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckSecretFiles: docs/operations.md says to check a
// configuration before a restart with "sesame config check", which "lists
// every problem at once, with its key". A secret file or CA file that serve
// cannot read makes serve exit 1 at start, so config check must report it
// (exit 1, naming the key) rather than say the configuration is valid.
func TestConfigCheckSecretFiles(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	cfg := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(cfg, []byte(`data_dir: `+dir+`
mail:
  driver: smtp
  smtp:
    host: smtp.example.org
    username: sesame
    password_file: `+missing+`
ldap:
  url: ldap://127.0.0.1:389
  bind_dn: cn=sesame,dc=example,dc=org
  bind_password_file: `+missing+`
  base_dn: dc=example,dc=org
  ca_file: `+missing+`
`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "config", "check", "--config", cfg)
	if code != 1 || strings.Contains(out, "The configuration is valid.") {
		t.Fatalf("config check with unreadable files: exit %d, stdout %q, stderr %q; want 1", code, out, errOut)
	}
	for _, key := range []string{"mail.smtp.password_file", "ldap.bind_password_file", "ldap.ca_file"} {
		if !strings.Contains(errOut, key) {
			t.Errorf("config check does not name %s:\n%s", key, errOut)
		}
	}

	// The same files present: valid.
	for _, f := range []string{missing} {
		if err := os.WriteFile(f, testCertPEM(t), 0o600); err != nil { // also ldap.ca_file: a certificate
			t.Fatal(err)
		}
	}
	if code, out, errOut := runCLI(t, "config", "check", "--config", cfg); code != 0 || !strings.Contains(out, "The configuration is valid.") {
		t.Fatalf("config check with readable files: exit %d, %q %q", code, out, errOut)
	}
}
