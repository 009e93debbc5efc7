package ldapsync

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.conn.Check(ctx)
	if !r.OK() {
		t.Fatalf("check failed on a good directory:\n%s", r)
	}
	for _, want := range []string{"argon2", "memberof", "base"} {
		if !strings.Contains(r.String(), "[ok  ] "+want) {
			t.Errorf("report lacks a passing %s line:\n%s", want, r)
		}
	}
	// Probes are removed.
	if n := len(e.search(t, e.syncer.Layout.Base, "(|(uid=sesame-probe-*)(cn=sesame-probe-*))", "1.1")); n != 0 {
		t.Fatalf("%d probe entries left behind", n)
	}

	t.Run("wrong bind password", func(t *testing.T) {
		c, err := NewConn(Config{URL: e.slapd.URL, BindDN: e.slapd.AdminDN, BindPassword: "nope", BaseDN: e.slapd.BaseDN})
		if err != nil {
			t.Fatal(err)
		}
		r := c.Check(ctx)
		if r.OK() || !strings.Contains(r.String(), "cannot connect and bind") || !strings.Contains(r.String(), "Invalid Credentials") {
			t.Fatalf("report:\n%s", r)
		}
	})
	t.Run("missing base", func(t *testing.T) {
		c, err := NewConn(Config{URL: e.slapd.URL, BindDN: e.slapd.AdminDN, BindPassword: e.slapd.AdminPassword, BaseDN: "ou=nowhere,dc=example,dc=org"})
		if err != nil {
			t.Fatal(err)
		}
		r := c.Check(ctx)
		if r.OK() || !strings.Contains(r.String(), "does not exist") {
			t.Fatalf("report:\n%s", r)
		}
	})
	t.Run("scheme none skips argon2", func(t *testing.T) {
		c, err := NewConn(Config{URL: e.slapd.URL, BindDN: e.slapd.AdminDN, BindPassword: e.slapd.AdminPassword, BaseDN: e.slapd.BaseDN, PasswordScheme: SchemeNone})
		if err != nil {
			t.Fatal(err)
		}
		r := c.Check(ctx)
		if !r.OK() || !strings.Contains(r.String(), "not needed") {
			t.Fatalf("report:\n%s", r)
		}
	})
	t.Run("server down", func(t *testing.T) {
		e.slapd.Stop()
		defer e.slapd.Start()
		c, err := NewConn(Config{URL: e.slapd.URL, BindDN: e.slapd.AdminDN, BindPassword: e.slapd.AdminPassword, BaseDN: e.slapd.BaseDN})
		if err != nil {
			t.Fatal(err)
		}
		r := c.Check(ctx)
		if r.OK() || !strings.Contains(r.String(), "connection refused") {
			t.Fatalf("report:\n%s", r)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{URL: "ldap://127.0.0.1:389", BindDN: "cn=admin,dc=x", BindPassword: "p", BaseDN: "dc=x"}).Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	err := Config{URL: "ldaps://h", StartTLS: true, BindDN: "not a dn", BindPassword: "p", BindPasswordEnv: "X",
		PasswordScheme: "md5", CAFile: "/nonexistent/ca.pem", PageSize: -1}.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, key := range []string{"ldap.start_tls", "ldap.bind_dn", "ldap.bind_password", "ldap.base_dn", "ldap.password_scheme", "ldap.ca_file", "ldap.page_size"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
	if err := (Config{URL: "http://h", BindDN: "cn=a", BindPassword: "p", BaseDN: "dc=x"}).Validate(); err == nil || !strings.Contains(err.Error(), "ldap.url") {
		t.Errorf("http URL: %v", err)
	}
}

func TestResolveBindPassword(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pw")
	if err := os.WriteFile(f, []byte("from file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SESAME_TEST_LDAP_PW", "from env")
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{BindPassword: "value"}, "value"},
		{Config{BindPasswordFile: f}, "from file"},
		{Config{BindPasswordEnv: "SESAME_TEST_LDAP_PW"}, "from env"},
	} {
		got, err := c.cfg.ResolveBindPassword()
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v", c.cfg, got, err)
		}
	}
	if _, err := (Config{BindPasswordEnv: "SESAME_TEST_LDAP_UNSET"}).ResolveBindPassword(); err == nil {
		t.Error("unset env accepted")
	}
	if _, err := (Config{BindPasswordFile: filepath.Join(dir, "missing")}).ResolveBindPassword(); err == nil {
		t.Error("missing file accepted")
	}
}
