package testenv_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"golang.org/x/crypto/argon2"

	"sesame/internal/testenv"
)

// argon2id returns an {ARGON2} userPassword value for password, as sesame
// writes them (golang.org/x/crypto/argon2, PHC string).
func argon2id(t *testing.T, password string) string {
	t.Helper()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	key := argon2.IDKey([]byte(password), salt, 2, 19456, 1, 32)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("{ARGON2}$argon2id$v=19$m=19456,t=2,p=1$%s$%s", b64(salt), b64(key))
}

// TestDocsSlapdConfig follows docs/ldap.md on the example configuration
// (docs/slapd, from which StartSlapd builds the server): the service
// accounts of accounts.ldif are loaded with ldapadd, then sesame's account
// writes a person with an argon2id hash and a group. The person binds with
// that password, gets memberOf, reads only their own entry; Nextcloud's
// reader reads everyone but no password and writes nothing; deleting the
// person removes them from the group (refint).
func TestDocsSlapdConfig(t *testing.T) {
	s := testenv.StartSlapd(t)
	ldapadd, ok := testenv.LookBinary("ldapadd")
	if !ok {
		testenv.Missing(t, "ldapadd is not installed (apt-get install ldap-utils)")
	}
	docs, err := testenv.SlapdDocsDir()
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := os.ReadFile(filepath.Join(docs, "accounts.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	const writerPW, readerPW = "le mot de passe de sesame", "celui du lecteur"
	ldif := strings.NewReplacer(
		"{ARGON2}REPLACE-WITH-SESAME-PASSWORD-HASH", argon2id(t, writerPW),
		"{ARGON2}REPLACE-WITH-READER-PASSWORD-HASH", argon2id(t, readerPW),
		"dc=example,dc=org", s.BaseDN,
	).Replace(string(accounts))
	if strings.Contains(ldif, "REPLACE") {
		t.Fatalf("accounts.ldif has a placeholder the test does not fill:\n%s", ldif)
	}
	file := filepath.Join(t.TempDir(), "accounts.ldif")
	if err := os.WriteFile(file, []byte(ldif), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ldapadd, "-x", "-H", s.URL, "-D", s.AdminDN, "-w", s.AdminPassword, "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("ldapadd accounts.ldif: %v\n%s", err, out)
	}
	// access.ldif, offline (the test server has no ldapi:// socket).
	access, err := os.ReadFile(filepath.Join(docs, "access.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	slapmodify, ok := testenv.LookBinary("slapmodify", "/usr/sbin")
	if !ok {
		testenv.Missing(t, "slapmodify is not installed (apt-get install slapd)")
	}
	file = filepath.Join(t.TempDir(), "access.ldif")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(access), "dc=example,dc=org", s.BaseDN)), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if out, err := exec.Command(slapmodify, "-q", "-n0", "-F", filepath.Join(s.Dir, "slapd.d"), "-l", file).CombinedOutput(); err != nil {
		t.Fatalf("slapmodify access.ldif: %v\n%s", err, out)
	}
	s.Start()

	dial := func(dn, pw string) (*ldap.Conn, error) {
		c, err := ldap.DialURL(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Bind(dn, pw); err != nil {
			c.Close()
			return nil, err
		}
		t.Cleanup(func() { c.Close() })
		return c, nil
	}
	writerDN, readerDN := "cn=sesame,"+s.BaseDN, "cn=nextcloud-reader,"+s.BaseDN
	writer, err := dial(writerDN, writerPW)
	if err != nil {
		t.Fatalf("bind as sesame's account: %v", err)
	}
	person := func(uid, password string) string {
		dn := "uid=" + uid + ",ou=people," + s.BaseDN
		add := ldap.NewAddRequest(dn, nil)
		add.Attribute("objectClass", []string{"inetOrgPerson"})
		for _, a := range []string{"uid", "cn", "sn"} {
			add.Attribute(a, []string{uid})
		}
		add.Attribute("mail", []string{uid + "@example.org"})
		add.Attribute("userPassword", []string{argon2id(t, password)})
		if err := writer.Add(add); err != nil {
			t.Fatalf("sesame's account adds %s: %v", dn, err)
		}
		return dn
	}
	zoe, yann := person("zoe", "la phrase de Zoé"), person("yann", "celle de Yann")
	structure := "o=le-beta,ou=structures," + s.BaseDN
	org := ldap.NewAddRequest(structure, nil)
	org.Attribute("objectClass", []string{"organization"})
	org.Attribute("o", []string{"le-beta"})
	group := "cn=nextcloud," + structure
	grp := ldap.NewAddRequest(group, nil)
	grp.Attribute("objectClass", []string{"groupOfNames"})
	grp.Attribute("cn", []string{"nextcloud"})
	grp.Attribute("member", []string{"cn=placeholder,ou=structures," + s.BaseDN, zoe, yann})
	for _, req := range []*ldap.AddRequest{org, grp} {
		if err := writer.Add(req); err != nil {
			t.Fatalf("sesame's account adds %s: %v", req.DN, err)
		}
	}

	// argon2: the person binds with the password sesame hashed.
	if _, err := dial(zoe, "la phrase de Zoé!"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("bind with a wrong password: %v; want invalid credentials", err)
	}
	asZoe, err := dial(zoe, "la phrase de Zoé")
	if err != nil {
		t.Fatalf("bind with the password of an {ARGON2} argon2id hash: %v", err)
	}
	search := func(c *ldap.Conn, dn string, attrs ...string) []*ldap.Entry {
		t.Helper()
		res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", attrs, nil))
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil
		}
		if err != nil {
			t.Fatalf("search %s: %v", dn, err)
		}
		return res.Entries
	}
	if got := search(asZoe, zoe, "mail"); len(got) != 1 || got[0].GetAttributeValue("mail") != "zoe@example.org" {
		t.Fatalf("a person cannot read their own entry: %v", got)
	}
	if got := search(asZoe, yann, "mail"); len(got) != 0 {
		t.Fatalf("a person reads another person's entry: %v", got[0].Attributes)
	}

	// memberof: the reader sees zoe in the group, but no password.
	reader, err := dial(readerDN, readerPW)
	if err != nil {
		t.Fatalf("bind as the reader: %v", err)
	}
	got := search(reader, zoe, "memberOf", "userPassword")
	if len(got) != 1 || !slices.Contains(got[0].GetAttributeValues("memberOf"), group) {
		t.Fatalf("memberOf of %s: %v", zoe, got)
	}
	if pw := got[0].GetAttributeValues("userPassword"); len(pw) != 0 {
		t.Fatalf("the reader reads password hashes: %q", pw)
	}
	mod := ldap.NewModifyRequest(yann, nil)
	mod.Replace("mail", []string{"evil@example.org"})
	if err := reader.Modify(mod); !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		t.Fatalf("the reader writes: %v", err)
	}

	// The reader pages through more people than the size limit (500).
	var many strings.Builder
	for i := range 520 {
		fmt.Fprintf(&many, "dn: uid=p%03d,ou=people,%s\nobjectClass: inetOrgPerson\nuid: p%03d\ncn: p%03d\nsn: p%03d\n\n", i, s.BaseDN, i, i, i)
	}
	file = filepath.Join(t.TempDir(), "many.ldif")
	if err := os.WriteFile(file, []byte(many.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ldapadd, "-x", "-H", s.URL, "-D", writerDN, "-w", writerPW, "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("ldapadd 520 people as sesame's account: %v\n%s", err, out)
	}
	people := ldap.NewSearchRequest("ou=people,"+s.BaseDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"uid"}, nil)
	if _, err := reader.Search(people); !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		t.Fatalf("an unpaged listing of 522 people: %v; want the size limit", err)
	}
	res, err := reader.SearchWithPaging(people, 500)
	if err != nil || len(res.Entries) != 522 {
		t.Fatalf("paged listing as the reader: %v, %d entries; want 522", err, len(res.Entries))
	}

	// refint: deleting a person takes them out of the group.
	if err := writer.Del(ldap.NewDelRequest(zoe, nil)); err != nil {
		t.Fatalf("sesame's account deletes %s: %v", zoe, err)
	}
	members := search(reader, group, "member")[0].GetAttributeValues("member")
	if slices.Contains(members, zoe) || !slices.Contains(members, yann) {
		t.Fatalf("members after deleting %s: %v", zoe, members)
	}
}
