package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Slapd is a throw-away OpenLDAP server of one test, started from Debian's
// slapd as in shared/recipes/slapd.md (mdb, memberof, refint, ppolicy and
// argon2 modules).
type Slapd struct {
	URL           string // ldap://127.0.0.1:PORT
	Addr          string // 127.0.0.1:PORT
	BaseDN        string // dc=example,dc=org
	AdminDN       string // cn=admin,dc=example,dc=org
	AdminPassword string
	Dir           string

	t    testing.TB
	bin  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

const slapdConfig = `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: DIR/slapd.pid
olcArgsFile: DIR/slapd.args

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: refint
olcModuleLoad: ppolicy
olcModuleLoad: argon2 m=19456 t=2 p=1

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file:///etc/ldap/schema/nis.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcPasswordHash: {ARGON2}
olcSizeLimit: 1000

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: BASE
olcRootDN: cn=admin,BASE
olcRootPW: admin
olcDbDirectory: DIR/data
olcDbMaxSize: 1073741824
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: uid,mail,cn eq
olcDbIndex: member,memberOf eq
olcDbIndex: entryUUID eq
olcAccess: {0}to attrs=userPassword by self =xw by anonymous auth by * none
olcAccess: {1}to * by users read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOfConfig
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member

dn: olcOverlay={2}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {2}ppolicy
olcPPolicyDefault: cn=default,ou=policies,BASE
olcPPolicyHashCleartext: TRUE
`

const slapdBase = `dn: BASE
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,BASE
objectClass: organizationalUnit
ou: people

dn: ou=structures,BASE
objectClass: organizationalUnit
ou: structures

dn: ou=policies,BASE
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,BASE
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
`

// StartSlapd starts a fresh slapd for t, stopped when the test ends. The
// directory holds the base entry, ou=people, ou=structures and a password
// policy; the root DN is cn=admin,BASE with password "admin".
func StartSlapd(t testing.TB) *Slapd {
	t.Helper()
	bin, ok := LookBinary("slapd", "/usr/sbin")
	if !ok {
		Missing(t, "slapd is not installed (apt-get install slapd ldap-utils)")
	}
	slapadd, ok := LookBinary("slapadd", "/usr/sbin")
	if !ok {
		Missing(t, "slapadd is not installed (apt-get install slapd)")
	}
	dir := ShortTempDir(t)
	base := "dc=example,dc=org"
	for _, d := range []string{"slapd.d", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	r := strings.NewReplacer("DIR", dir, "BASE", base)
	if err := os.WriteFile(filepath.Join(dir, "config.ldif"), []byte(r.Replace(slapdConfig)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "base.ldif"), []byte(r.Replace(slapdBase)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-q", "-n0", "-F", filepath.Join(dir, "slapd.d"), "-l", filepath.Join(dir, "config.ldif")},
		{"-q", "-n1", "-F", filepath.Join(dir, "slapd.d"), "-l", filepath.Join(dir, "base.ldif")},
	} {
		if out, err := exec.Command(slapadd, args...).CombinedOutput(); err != nil {
			t.Fatalf("testenv: slapadd %v: %v\n%s", args, err, out)
		}
	}
	port := FreePort(t)
	s := &Slapd{
		URL:           fmt.Sprintf("ldap://127.0.0.1:%d", port),
		Addr:          fmt.Sprintf("127.0.0.1:%d", port),
		BaseDN:        base,
		AdminDN:       "cn=admin," + base,
		AdminPassword: "admin",
		Dir:           dir,
		t:             t,
		bin:           bin,
	}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start starts slapd again after Stop (same port, same data).
func (s *Slapd) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	var logs bytes.Buffer
	cmd := exec.Command(s.bin, "-d", "0", "-F", filepath.Join(s.Dir, "slapd.d"), "-h", s.URL+"/")
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("testenv: start slapd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	if err := WaitTCP(s.Addr, 10*time.Second); err != nil {
		_ = cmd.Process.Kill()
		<-done
		s.t.Fatalf("testenv: slapd did not start: %v\n%s", err, logs.String())
	}
	s.cmd, s.done = cmd, done
}

// Stop kills slapd (SIGKILL: like a crash; mdb survives it).
func (s *Slapd) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.done = nil, nil
}
