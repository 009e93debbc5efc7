package ldapsync

import (
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// EscapeDNValue escapes an attribute value for use in a DN string, as RFC
// 4514 section 2.4 says: the characters " + , ; < > \ and = anywhere, a
// leading # or space, a trailing space, and control characters (as \XX).
// Other non-ASCII characters are kept as UTF-8, which RFC 4514 allows.
func EscapeDNValue(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 8)
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' || c == '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		case (c == ' ' || c == '#') && i == 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == ' ' && i == len(v)-1:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			b.WriteByte('\\')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// EscapeFilterValue escapes an assertion value for use in a search filter,
// as RFC 4515 section 3 says: ( ) * \ NUL, and every non-ASCII byte, as \xx.
func EscapeFilterValue(v string) string { return ldap.EscapeFilter(v) }

// dnKey is the canonical form under which DNs are compared: attribute types
// and values case-folded (every naming attribute of the layout matches
// without case), escapes normalised, multi-valued RDNs sorted. A string that
// does not parse is only lower-cased.
func dnKey(dn string) string {
	if plainDN(dn) {
		return strings.ToLower(dn)
	}
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(dn)
	}
	rdns := make([]string, 0, len(parsed.RDNs))
	for _, rdn := range parsed.RDNs {
		avas := make([]string, 0, len(rdn.Attributes))
		for _, a := range rdn.Attributes {
			avas = append(avas, strings.ToLower(a.Type)+"="+EscapeDNValue(strings.ToLower(a.Value)))
		}
		slices.Sort(avas)
		rdns = append(rdns, strings.Join(avas, "+"))
	}
	return strings.Join(rdns, ",")
}

// plainDN reports whether dn needs no parsing to be put in canonical form:
// only letters, digits, '.', '-', and in each RDN a single '=' (the
// common case: usernames and slugs), so lower-casing it is enough.
func plainDN(dn string) bool {
	eq := 0
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-':
		case c == '=':
			eq++
			if eq > 1 {
				return false
			}
		case c == ',':
			if eq != 1 {
				return false
			}
			eq = 0
		default:
			return false
		}
	}
	return eq == 1
}
