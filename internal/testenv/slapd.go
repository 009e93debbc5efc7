package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Slapd is a throw-away OpenLDAP server of one test, started from Debian's
// slapd with the project's example configuration, docs/slapd/slapd.ldif and
// docs/slapd/base.ldif (mdb, memberof, refint, ppolicy and argon2 modules):
// the configuration the documentation gives hosters is the one every LDAP
// test runs against.
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

// SlapdDocsDir returns the folder holding the example slapd configuration
// (docs/slapd in the source tree).
func SlapdDocsDir() (string, error) {
	// This file's own path, when the build kept it (no -trimpath).
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		d := filepath.Join(filepath.Dir(file), "..", "..", "docs", "slapd")
		if _, err := os.Stat(filepath.Join(d, "slapd.ldif")); err == nil {
			return d, nil
		}
	}
	// Else the module's root above the working directory (go test runs in
	// the package's folder).
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testenv: slapd docs: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "docs", "slapd"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: slapd docs: no go.mod above the working directory")
		}
		dir = parent
	}
}

// slapdFiles reads the example configuration and the base entries and turns
// them into a test directory's: its paths under dir, the suffix base, the
// root password "admin", and no fsync (test data need not survive a power
// cut; it makes the suite several times faster). Every replacement must
// apply, so a change to the example that a test would silently miss fails
// here instead.
func slapdFiles(dir, base string) (config, entries string, err error) {
	docs, err := SlapdDocsDir()
	if err != nil {
		return "", "", err
	}
	c, err := os.ReadFile(filepath.Join(docs, "slapd.ldif"))
	if err != nil {
		return "", "", fmt.Errorf("testenv: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(docs, "base.ldif"))
	if err != nil {
		return "", "", fmt.Errorf("testenv: %w", err)
	}
	if config, err = testConfig(string(c), dir, base); err != nil {
		return "", "", err
	}
	return config, strings.ReplaceAll(string(b), "dc=example,dc=org", base), nil
}

// testConfig turns the example cn=config LDIF into a test directory's.
func testConfig(config, dir, base string) (string, error) {
	for _, r := range []struct{ re, with string }{
		{`(?m)^olcPidFile: /var/run/slapd/`, "olcPidFile: " + dir + "/"},
		{`(?m)^olcArgsFile: /var/run/slapd/`, "olcArgsFile: " + dir + "/"},
		{`(?m)^olcDbDirectory: /var/lib/ldap$`, "olcDbDirectory: " + dir + "/data\nolcDbNoSync: TRUE"},
		{`(?m)^olcRootPW: .*$`, "olcRootPW: admin"},
	} {
		re := regexp.MustCompile(r.re)
		if !re.MatchString(config) {
			return "", fmt.Errorf("testenv: docs/slapd/slapd.ldif no longer matches %s", r.re)
		}
		config = re.ReplaceAllString(config, r.with)
	}
	return strings.ReplaceAll(config, "dc=example,dc=org", base), nil
}

// StartSlapd starts a fresh slapd for t, stopped when the test ends. The
// directory holds docs/slapd/base.ldif's entries (the base, ou=people,
// ou=structures and a password policy) but not the service accounts of
// docs/slapd/accounts.ldif; the root DN is cn=admin,BASE with password
// "admin".
func StartSlapd(t testing.TB) *Slapd {
	t.Helper()
	return StartSlapdWith(t, SlapdOptions{})
}

// SlapdOptions changes how StartSlapdWith configures the test slapd.
type SlapdOptions struct {
	// Sync leaves slapd's default durable commits on (no olcDbNoSync): every
	// write waits for the disk, as on a production slapd. Writes that touch
	// many entries (a group modify with the memberof overlay updates each
	// member) are then many times slower than in the other tests.
	Sync bool
}

// StartSlapdWith is StartSlapd with options.
func StartSlapdWith(t testing.TB, opts SlapdOptions) *Slapd {
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
	config, entries, err := slapdFiles(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Sync {
		config = strings.Replace(config, "olcDbNoSync: TRUE\n", "", 1)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.ldif"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "base.ldif"), []byte(entries), 0o600); err != nil {
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
