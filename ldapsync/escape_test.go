package ldapsync

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestEscapeDNValue(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"a,b", `a\,b`},
		{"a+b", `a\+b`},
		{`say "hi"`, `say \"hi\"`},
		{`back\slash`, `back\\slash`},
		{"<tag>", `\<tag\>`},
		{"semi;colon", `semi\;colon`},
		{"#first", `\#first`},
		{"mid#dle", "mid#dle"},
		{"a=b", `a\=b`},
		{" lead", `\ lead`},
		{"trail ", `trail\ `},
		{" ", `\ `},
		{"nul\x00byte", `nul\00byte`},
		{"Zoë Ørsted", "Zoë Ørsted"},
		{"李小龙", "李小龙"},
	}
	for _, c := range cases {
		if got := EscapeDNValue(c.in); got != c.want {
			t.Errorf("EscapeDNValue(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// hostile are the names the import tests use: every special character of
// RFC 4514 and 4515, leading and trailing spaces, non-ASCII.
var hostile = []string{
	"O'Brien, Jr.", "Dupont+Durand", `Le "Grand"`, `back\slash`, "<script>", "semi;colon", "#hashtag",
	"a=b", " leading space", "trailing space ", "  two  spaces  ", "Zoë Ørsted-Ñúñez", "Œdipe ß", "李小龙",
	"emoji 🙂", "paren (x) * star", "tab\there",
}

func TestEscapeDNValueRoundTrip(t *testing.T) {
	for _, v := range hostile {
		dn := "cn=" + EscapeDNValue(v) + ",o=x,dc=example,dc=org"
		parsed, err := ldap.ParseDN(dn)
		if err != nil {
			t.Errorf("%q: ParseDN(%q): %v", v, dn, err)
			continue
		}
		if got := parsed.RDNs[0].Attributes[0].Value; got != v {
			t.Errorf("%q: round trip gave %q (DN %q)", v, got, dn)
		}
		if len(parsed.RDNs) != 4 {
			t.Errorf("%q: DN %q split into %d RDNs", v, dn, len(parsed.RDNs))
		}
	}
}

func TestEscapeFilterValue(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"*", `\2a`},
		{"(x)", `\28x\29`},
		{`a\b`, `a\5cb`},
		{"nul\x00", `nul\00`},
		{"é", `\c3\a9`},
	}
	for _, c := range cases {
		if got := EscapeFilterValue(c.in); got != c.want {
			t.Errorf("EscapeFilterValue(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, v := range hostile {
		if _, err := ldap.CompileFilter("(cn=" + EscapeFilterValue(v) + ")"); err != nil {
			t.Errorf("%q: filter does not compile: %v", v, err)
		}
	}
}

func TestDNKey(t *testing.T) {
	a := "CN=Nextcloud-Admin,o=le-beta,OU=structures,dc=example,dc=org"
	b := `cn=nextcloud\2Dadmin, o=le-beta,ou=structures,dc=Example,dc=ORG`
	if dnKey(a) != dnKey(b) {
		t.Fatalf("dnKey(%q) = %q, dnKey(%q) = %q", a, dnKey(a), b, dnKey(b))
	}
}

func TestDNKeyFastPathAgrees(t *testing.T) {
	for _, dn := range []string{
		"uid=jean.dupont,ou=people,dc=example,dc=org",
		"CN=Nextcloud-Admin,O=le-beta,ou=structures,DC=example,DC=org",
		"cn=a=b,dc=x", "cn=,dc=x", "uid=x", "=x,dc=y", "cn=a,,dc=x",
	} {
		parsed, err := ldap.ParseDN(dn)
		if err != nil {
			if dnKey(dn) != strings.ToLower(dn) {
				t.Errorf("dnKey(%q) of an unparsable DN = %q", dn, dnKey(dn))
			}
			continue
		}
		var slow []string
		for _, r := range parsed.RDNs {
			slow = append(slow, strings.ToLower(r.Attributes[0].Type)+"="+EscapeDNValue(strings.ToLower(r.Attributes[0].Value)))
		}
		if got, want := dnKey(dn), strings.Join(slow, ","); got != want {
			t.Errorf("dnKey(%q) = %q, want %q", dn, got, want)
		}
	}
}
