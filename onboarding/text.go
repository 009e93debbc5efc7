package onboarding

import (
	"strings"
	"unicode"
	"unicode/utf8"

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

// badRune returns the first character of s that has no place in a value
// that sesame stores, writes to the directory or mails, and false when there
// is none:
//   - control characters: C0 (tab included), DEL and C1; a line feed only when
//     allowNewline is false (rights cells may list items one per line);
//   - format characters (Unicode category Cf), invisible by definition: the
//     zero-width space, non-joiner and joiner U+200B–U+200D, the word joiner
//     U+2060, the byte order mark U+FEFF inside a value, the bidirectional
//     marks and controls U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, the
//     soft hyphen U+00AD, the tag characters U+E0000–U+E007F...;
//   - the other default-ignorable code points (Hangul fillers U+3164 and
//     U+FFA0, the combining grapheme joiner U+034F...), which render as
//     nothing.
//
// A line feed inside a value that is not a rights cell, a tab or a no-break
// space are not white space here: the caller trims and collapses white space
// (Clean) only after this check, and a value holding a tab is refused.
func badRune(s string, allowNewline bool) (rune, bool) {
	for _, r := range s {
		if isBadRune(r, allowNewline) {
			return r, true
		}
	}
	return 0, false
}

// isBadRune is badRune's test for one character.
func isBadRune(r rune, allowNewline bool) bool {
	switch {
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return r != '\n' || !allowNewline
	case r < 0xa0:
		return false
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// scriptsOf names the letter scripts that can be confused with one another
// (Latin, Cyrillic, Greek) among the letters of s.
func scriptsOf(s string) (latin, cyrillic, greek bool) {
	for _, r := range s {
		switch {
		case r < 0x80:
			latin = latin || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		case unicode.Is(unicode.Latin, r):
			latin = true
		case unicode.Is(unicode.Cyrillic, r):
			cyrillic = true
		case unicode.Is(unicode.Greek, r):
			greek = true
		}
	}
	return latin, cyrillic, greek
}

// mixesScripts reports whether one word of s (letters, digits and accents
// between spaces, hyphens, dots, apostrophes, "@"...) mixes Latin, Cyrillic and Greek letters:
// "аdmin" with a Cyrillic "а" looks like "admin" and is not. A name written
// in one script, or two words each in its own ("Ivan Иванов"), is fine.
func mixesScripts(s string) bool {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r)
	}) {
		l, c, g := scriptsOf(w)
		n := 0
		for _, b := range []bool{l, c, g} {
			if b {
				n++
			}
		}
		if n > 1 {
			return true
		}
	}
	return false
}

// isASCII reports whether s holds only ASCII characters.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
