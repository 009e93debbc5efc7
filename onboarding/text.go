package onboarding

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// isTrimmable reports whether r is removed around a value: every Unicode
// white space, including the no-break spaces U+00A0 and U+202F that French
// spreadsheets put before ":" and inside numbers, and a stray BOM.
func isTrimmable(r rune) bool {
	return unicode.IsSpace(r) || r == '\u00a0' || r == '\u202f' || r == '\u2007' || r == '\ufeff'
}

// Clean NFC-normalises s, trims it and collapses every run of white space
// inside it (no-break spaces included) into one ASCII space.
func Clean(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		if isTrimmable(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// fold is the key under which headers, service names and role names are
// compared: without case, accents or punctuation ("E-mail", "e mail" and
// "EMAIL" all give "e mail"; "Éditeur" gives "editeur").
func fold(s string) string {
	s = norm.NFD.String(strings.ToLower(Clean(s)))
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == '-' || r == '_' || r == '\'' || r == '\u2019' || r == '.' || r == ' ' || r == '/':
			space = true
			continue
		}
		if special, ok := translit[r]; ok {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteString(special)
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// translit spells the letters that have no decomposition into a base letter
// and accents.
var translit = map[rune]string{
	'œ': "oe", 'æ': "ae", 'ß': "ss", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d",
	'þ': "th", 'ı': "i", 'ŀ': "l", 'ĳ': "ij", 'ŧ': "t", 'ħ': "h", 'ŋ': "n",
	'ſ': "s", 'ẞ': "ss",
}

// transliterate lowers s and spells it in ASCII letters where it can: accents
// dropped (é→e), ligatures and special letters spelled (œ→oe, ß→ss, ø→o,
// ł→l). Characters without an ASCII spelling are kept as they are.
func transliterate(s string) string {
	s = norm.NFD.String(strings.ToLower(s))
	var b strings.Builder
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if t, ok := translit[r]; ok {
			b.WriteString(t)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hasControl reports whether s holds a control character (C0, DEL, C1) or a
// bidirectional override, which have no place in a name or an address.
// When allowNewline is true, line feeds are accepted (rights cells may list
// items one per line).
func hasControl(s string, allowNewline bool) bool {
	for _, r := range s {
		if r == '\n' && allowNewline {
			continue
		}
		if unicode.IsControl(r) || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return true
		}
	}
	return false
}
