package ldapsync

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Person is what the directory should hold for one person.
type Person struct {
	Username    string
	GivenName   string
	FamilyName  string
	DisplayName string
	Email       string
	// PasswordHash is the store's argon2id PHC string, empty when the
	// person has no password (or is disabled).
	PasswordHash string
	Disabled     bool
	// Groups are the groups the person belongs to; empty when disabled.
	Groups []Group
}

// Group names one service group (Role empty) or role group.
type Group struct {
	Structure     string // structure slug
	StructureName string
	Service       string // service slug
	ServiceName   string
	Role          string
}

// Structure is what the directory should hold for one structure: its entry
// and every group of its services.
type Structure struct {
	Slug   string
	Name   string
	Groups []Group
}

// State is the desired state of the whole directory, or of one structure's
// part of it when Scope names that structure.
type State struct {
	Scope      string // a structure slug, or "" for everything
	Structures []Structure
	People     []Person
}

// description is the description written on a group entry.
func (g Group) description() string {
	name := g.ServiceName
	if name == "" {
		name = g.Service
	}
	if g.Role == "" {
		return name
	}
	return fmt.Sprintf("%s (%s)", name, g.Role)
}

// personAttrs is the managed attributes of p's entry, by lower-case name,
// each with its values; an attribute that must be absent has no values.
func personAttrs(p Person, scheme string) map[string][]string {
	cn := p.DisplayName
	if strings.TrimSpace(cn) == "" {
		cn = strings.TrimSpace(p.GivenName + " " + p.FamilyName)
	}
	if cn == "" {
		cn = p.Username
	}
	sn := p.FamilyName
	if sn == "" {
		sn = cn
	}
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	attrs := map[string][]string{
		"cn":          {cn},
		"sn":          {sn},
		"givenname":   one(p.GivenName),
		"displayname": {cn},
		"mail":        one(p.Email),
	}
	if scheme == SchemeArgon2 {
		attrs["userpassword"] = nil
		if !p.Disabled && p.PasswordHash != "" {
			attrs["userpassword"] = []string{passwordValue(p.PasswordHash)}
		}
	}
	return attrs
}

// attrNames maps the lower-case names used internally to their schema
// spelling, in the order they are written.
var attrNames = []struct{ key, name string }{
	{"cn", "cn"}, {"sn", "sn"}, {"givenname", "givenName"}, {"displayname", "displayName"},
	{"mail", "mail"}, {"userpassword", "userPassword"},
}

// label names p in reports: "USERNAME <EMAIL>", the email quoted in ASCII
// so that an invisible character in it shows.
func (p Person) label() string {
	email := strconv.QuoteToASCII(p.Email)
	return p.Username + " <" + email[1:len(email)-1] + ">"
}

// predictRefusal returns why the directory will refuse c, as far as sesame
// knows the standard schema: mail is an IA5String (RFC 4524), so a value
// with a character outside ASCII is refused (e.g. an invisible U+200B
// pasted into a spreadsheet). Empty when nothing is known against c.
func predictRefusal(c Change) string {
	for _, a := range c.Attrs {
		if !strings.EqualFold(a.Name, "mail") {
			continue
		}
		for _, v := range a.New {
			for _, r := range v {
				if r > unicode.MaxASCII {
					return fmt.Sprintf("mail %s holds %U, not ASCII: the directory's mail attribute (IA5String) refuses it", strconv.QuoteToASCII(v), r)
				}
			}
		}
	}
	return ""
}

// passwordValue is the userPassword value of a PHC hash.
func passwordValue(phc string) string { return "{ARGON2}" + phc }

// checkPasswordHash reports whether phc is an argon2id PHC string, the only
// form slapd's argon2 module verifies.
func checkPasswordHash(phc string) error {
	if phc == "" {
		return nil
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$") || strings.Count(phc, "$") != 5 || strings.ContainsAny(phc, "\x00\n ") {
		return fmt.Errorf("%w: the password hash is not an argon2id PHC string", ErrRejected)
	}
	return nil
}
