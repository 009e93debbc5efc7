package ldapsync

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// slapmodifyConfig applies an LDIF to the test slapd's cn=config offline.
func (e *env) slapmodifyConfig(t *testing.T, ldif string) {
	t.Helper()
	bin, ok := testenv.LookBinary("slapmodify", "/usr/sbin")
	if !ok {
		testenv.Missing(t, "slapmodify is not installed")
	}
	e.slapd.Stop()
	f := filepath.Join(e.slapd.Dir, "change.ldif")
	if err := os.WriteFile(f, []byte(ldif), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-q", "-n0", "-F", filepath.Join(e.slapd.Dir, "slapd.d"), "-l", f).CombinedOutput(); err != nil {
		t.Fatalf("slapmodify: %v\n%s", err, out)
	}
	e.slapd.Start()
}

// TestCheckReportsMissingModules runs the check against a slapd without
// the argon2 module and without the memberof overlay.
func TestCheckReportsMissingModules(t *testing.T) {
	e := newEnv(t)
	e.slapmodifyConfig(t, `dn: cn=module{0},cn=config
changetype: modify
delete: olcModuleLoad
olcModuleLoad: {4}argon2 m=19456 t=2 p=1

dn: olcDatabase={-1}frontend,cn=config
changetype: modify
delete: olcPasswordHash

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
changetype: delete
`)
	r := e.conn.Check(context.Background())
	if r.OK() {
		t.Fatalf("check passed without argon2 and memberof:\n%s", r)
	}
	s := r.String()
	if !strings.Contains(s, "[FAIL] argon2") || !strings.Contains(s, "olcModuleLoad: argon2") {
		t.Errorf("argon2 line:\n%s", s)
	}
	if !strings.Contains(s, "[FAIL] memberof") {
		t.Errorf("memberof line:\n%s", s)
	}
	t.Log("\n" + s)
}
