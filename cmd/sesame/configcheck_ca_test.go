package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// testCertPEM is a self-signed certificate in PEM, a valid ldap.ca_file.
func testCertPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
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
