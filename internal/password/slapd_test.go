package password

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"sesame/internal/testenv"
)

// TestSlapdCompatible checks, against a real slapd with its argon2 module,
// that a hash made here verifies in the directory ("{ARGON2}" + PHC) and that
// a hash slapd makes verifies here.
func TestSlapdCompatible(t *testing.T) {
	s := testenv.StartSlapd(t)
	h := NewHasher(DefaultParams(), 2)
	ctx := context.Background()
	plain := "Un mot de passe très long, accentué, avec un émoji 🐘 et des « guillemets » " + strings.Repeat("x", 40)
	phc, err := h.Hash(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}

	admin, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.Bind(s.AdminDN, s.AdminPassword); err != nil {
		t.Fatal(err)
	}
	add := func(uid, userPassword string) string {
		dn := "uid=" + uid + ",ou=people," + s.BaseDN
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"inetOrgPerson"})
		req.Attribute("uid", []string{uid})
		req.Attribute("cn", []string{uid})
		req.Attribute("sn", []string{uid})
		req.Attribute("userPassword", []string{userPassword})
		if err := admin.Add(req); err != nil {
			t.Fatalf("add %s: %v", dn, err)
		}
		return dn
	}
	bind := func(dn, pw string) error {
		c, err := ldap.DialURL(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.Bind(dn, pw)
	}

	// Our hash, in the directory.
	dn := add("camille.dupont", "{ARGON2}"+phc)
	if err := bind(dn, plain); err != nil {
		t.Fatalf("slapd refused the right password for our hash: %v", err)
	}
	err = bind(dn, plain+"!")
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("slapd bind with a wrong password: %v; want invalid credentials", err)
	}

	// The other way round is not symmetric: Debian's slapd argon2 module,
	// when it hashes cleartext itself (ppolicy's hash-cleartext), writes
	// argon2i, not argon2id, with trailing NUL bytes. sesame therefore never
	// hands slapd a cleartext password; it writes its own argon2id hash.
	// This records that behaviour so a change in slapd shows up here.
	dn2 := add("dominique.martin", "la phrase de Dominique à l'ancienne")
	res, err := admin.Search(ldap.NewSearchRequest(dn2, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"userPassword"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read back userPassword: %v", err)
	}
	stored := res.Entries[0].GetAttributeValue("userPassword")
	switch {
	case strings.HasPrefix(stored, "{ARGON2}$argon2id$"):
		t.Logf("slapd now hashes with argon2id: %q", stored)
		if ok, err := h.Verify(ctx, strings.TrimRight(stored, "\x00"), "la phrase de Dominique à l'ancienne"); err != nil || !ok {
			t.Fatalf("Verify of slapd's argon2id hash %q = %v, %v", stored, ok, err)
		}
	case strings.HasPrefix(stored, "{ARGON2}$argon2i$"):
		if _, err := h.Verify(ctx, stored, "la phrase de Dominique à l'ancienne"); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Verify of slapd's argon2i hash: %v; want ErrMalformed (sesame stores argon2id only)", err)
		}
	default:
		t.Fatalf("slapd stored %q, not an {ARGON2} hash", stored)
	}
}
