package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/config"
	"sesame/internal/testenv"
)

// config check must not call valid a configuration serve refuses at start
// (registerLDAP → ldapsync.NewConn): an ldap.ca_file that is a folder
// (os.Open succeeds, os.ReadFile does not) or a file with no PEM
// certificate in it (a key, a DER file, a password file given by mistake).
func TestConfigCheckCAFileServeRefuses(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "bind.pw")
	notPEM := filepath.Join(dir, "ca.der")
	for _, f := range []string{pw, notPEM} {
		if err := os.WriteFile(f, []byte("secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, ca := range map[string]string{"folder": dir, "no certificate": notPEM} {
		cfg := ldapCAConfig(t, dir, pw, ca)
		code, out, errOut := runCLI(t, "config", "check", "--config", cfg)
		if code != 1 || !strings.Contains(errOut, "ldap.ca_file") {
			t.Errorf("%s as ldap.ca_file: exit %d, stdout %q, stderr %q; want 1 naming ldap.ca_file (serve refuses it)", name, code, out, errOut)
		}
	}
}

// testCertPEM is a self-signed certificate in PEM, a valid CA file.
func testCertPEM(t *testing.T) []byte {
	t.Helper()
	cert, _ := testenv.SelfSigned(t)
	b, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A real CA file is accepted.
func TestConfigCheckCAFileValid(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	pw, ca := filepath.Join(dir, "bind.pw"), filepath.Join(dir, "ca.pem")
	_ = os.WriteFile(pw, []byte("secret\n"), 0o600)
	_ = os.WriteFile(ca, testCertPEM(t), 0o600)
	cfg := ldapCAConfig(t, dir, pw, ca)
	if code, out, errOut := runCLI(t, "config", "check", "--config", cfg); code != 0 {
		t.Errorf("a PEM CA file: exit %d, %q %q", code, out, errOut)
	}
}

// ldapCAConfig writes a configuration in dir with LDAP over TLS, its bind
// password in pw and its CA in ca, and returns its path.
func ldapCAConfig(t *testing.T, dir, pw, ca string) string {
	t.Helper()
	cfg := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(cfg, []byte(`data_dir: `+dir+`
ldap:
  url: ldaps://127.0.0.1:636
  bind_dn: cn=sesame,dc=example,dc=org
  bind_password_file: `+pw+`
  base_dn: dc=example,dc=org
  ca_file: `+ca+`
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// mail.smtp.ca_file reaches the SMTP client (a private relay's CA) and is
// read by config check as serve reads it.
func TestSMTPCAFile(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	good, notPEM := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.der")
	_ = os.WriteFile(good, testCertPEM(t), 0o600)
	_ = os.WriteFile(notPEM, []byte("secret\n"), 0o600)
	write := func(ca, tls string) string {
		cfg := filepath.Join(dir, "sesame.yaml")
		if err := os.WriteFile(cfg, []byte(`data_dir: `+dir+`
mail:
  driver: smtp
  smtp:
    host: 127.0.0.1
    port: 2525
    tls: `+tls+`
    ca_file: `+ca+`
`), 0o600); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	for name, ca := range map[string]string{"folder": dir, "no certificate": notPEM} {
		code, out, errOut := runCLI(t, "config", "check", "--config", write(ca, "starttls"))
		if code != 1 || !strings.Contains(errOut, "mail.smtp.ca_file") {
			t.Errorf("%s as mail.smtp.ca_file: exit %d, %q %q; want 1 naming the key", name, code, out, errOut)
		}
		cfg, err := config.Load(write(ca, "starttls"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mailSender(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "CA file") {
			t.Errorf("%s: the SMTP client was built without its CA file: %v", name, err)
		}
	}
	if code, out, errOut := runCLI(t, "config", "check", "--config", write(good, "starttls")); code != 0 {
		t.Errorf("a PEM CA file: exit %d, %q %q", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "config", "check", "--config", write(good, "none")); code != 1 || !strings.Contains(errOut, "mail.smtp.ca_file") {
		t.Errorf("a CA file without TLS: exit %d, %q", code, errOut)
	}
}
