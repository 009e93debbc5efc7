package onboarding

import (
	"strconv"
	"strings"
)

// MaxUsernameLen bounds usernames (LDAP uid, application logins): 60,
// WordPress's limit (wp_insert_user refuses a longer login with
// user_login_too_long), the strictest of the applications.
const MaxUsernameLen = 60

// legacyUsernameLen is the bound before MaxUsernameLen: accounts made then
// keep their username, and a file may name it (the board's export does).
const legacyUsernameLen = 64

// usernamePart spells one name in [a-z0-9-]: transliterated, white space and
// dots become "-", apostrophes and anything else outside the alphabet are
// dropped, and dashes are collapsed and trimmed.
func usernamePart(s string) string {
	s = transliterate(Clean(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '_' || r == '\u2010' || r == '\u2011' || r == '\u2013':
			dash = true
		}
	}
	return b.String()
}

// BaseUsername derives "firstname.lastname" from a person's names: only
// [a-z0-9.-], transliterated (é→e, œ→oe, æ→ae, ß→ss, ø→o, ł→l...). When both
// names are empty it falls back on the local part of the email, then on
// "user". The result is at most MaxUsernameLen-4 characters long, leaving
// room for a collision number.
func BaseUsername(given, family, email string) string {
	g, f := usernamePart(given), usernamePart(family)
	var base string
	switch {
	case g != "" && f != "":
		base = g + "." + f
	case g != "":
		base = g
	case f != "":
		base = f
	default:
		local, _, _ := strings.Cut(email, "@")
		parts := strings.Split(local, ".")
		for i := range parts {
			parts[i] = usernamePart(parts[i])
		}
		base = strings.Trim(strings.Join(parts, "."), ".")
		for strings.Contains(base, "..") {
			base = strings.ReplaceAll(base, "..", ".")
		}
	}
	if base == "" {
		base = "user"
	}
	if len(base) < 2 {
		base = "user-" + base
	}
	if len(base) > MaxUsernameLen-4 {
		base = strings.TrimRight(base[:MaxUsernameLen-4], ".-")
	}
	return base
}

// ValidUsername reports whether u follows the username rules: 2 to
// MaxUsernameLen characters of [a-z0-9.-], starting and ending with a letter
// or digit.
func ValidUsername(u string) bool {
	return validUsername(u, MaxUsernameLen)
}

func validUsername(u string, maxLen int) bool {
	if len(u) < 2 || len(u) > maxLen {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !alnum && c != '.' && c != '-' {
			return false
		}
		if !alnum && (i == 0 || i == len(u)-1) {
			return false
		}
	}
	return true
}

// NextFreeUsername returns base when it is free, else base2, base3... — the
// first candidate that taken does not report.
func NextFreeUsername(base string, taken func(string) bool) string {
	if !taken(base) {
		return base
	}
	for n := 2; ; n++ {
		c := base + strconv.Itoa(n)
		if !taken(c) {
			return c
		}
	}
}

// Slug turns a display name into a slug of [a-z0-9-] ("Site web" →
// "site-web", "Comptabilité" → "comptabilite"), or "" when nothing is left.
func Slug(name string) string { return usernamePart(name) }
