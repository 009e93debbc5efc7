package password

import (
	"bufio"
	"embed"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"sesame/internal/i18n"
	"sesame/internal/third_party/zxcvbn"
	"sesame/internal/third_party/zxcvbn/match"
	"sesame/internal/third_party/zxcvbn/matching"
)

// Policy defaults and limits.
const (
	// DefaultMinLength is the minimum length, in runes, when Policy.MinLength
	// is zero.
	DefaultMinLength = 10
	// DefaultMinScore is the minimum zxcvbn score (0..4) when
	// Policy.MinScore is zero.
	DefaultMinScore = 3
	// MaxLength is the longest password accepted, in runes. It only keeps a
	// request from making the server hash megabytes; passphrases of any
	// sensible length fit.
	MaxLength = 1024
	// scoredRunes is how much of a password zxcvbn examines (its matching
	// is quadratic in the length). The rest only adds guesses, so a long
	// password whose beginning is strong is strong; the hash still covers
	// every rune.
	scoredRunes = 100
)

// The codes of Problem.
const (
	CodeTooShort = "too_short"
	CodeTooLong  = "too_long"
	CodeInvalid  = "invalid"
	CodeCommon   = "common"
	CodePersonal = "personal"
	CodeWeak     = "weak"
)

// Policy says which passwords are acceptable. There are no composition
// rules: length, lists of common passwords and words, and zxcvbn's estimate
// decide.
type Policy struct {
	MinLength int // in runes; 0 means DefaultMinLength
	MinScore  int // zxcvbn score 0..4; 0 means DefaultMinScore
}

// DefaultPolicy is the policy sesame applies unless configured otherwise.
func DefaultPolicy() Policy {
	return Policy{MinLength: DefaultMinLength, MinScore: DefaultMinScore}
}

// Problem is why a password was refused: a stable code, and a plain,
// helpful sentence for the person, kept as a message of the catalogue
// (internal/i18n) and rendered in the reader's language.
type Problem struct {
	Code string
	Msg  i18n.Message
}

// Error makes a Problem usable as an error; it is the English sentence.
func (p *Problem) Error() string { return "password: " + p.Msg.In("en") }

// Message returns the sentence in lang ("en" gives English, anything else
// French).
func (p *Problem) Message(lang string) string { return p.Msg.In(lang) }

func tooShort(min int) *Problem {
	return &Problem{Code: CodeTooShort, Msg: i18n.M(i18n.PasswordTooShort, min)}
}

var (
	problemTooLong  = &Problem{Code: CodeTooLong, Msg: i18n.M(i18n.PasswordTooLong, MaxLength)}
	problemInvalid  = &Problem{Code: CodeInvalid, Msg: i18n.M(i18n.PasswordInvalid)}
	problemCommon   = &Problem{Code: CodeCommon, Msg: i18n.M(i18n.PasswordCommon)}
	problemPersonal = &Problem{Code: CodePersonal, Msg: i18n.M(i18n.PasswordPersonal)}
	problemWeak     = &Problem{Code: CodeWeak, Msg: i18n.M(i18n.PasswordWeak)}
)

// Check returns nil when plain is acceptable, or the first Problem found.
// userInputs are what an attacker knows of the person: names, email,
// username, the structure's name; they are split into words and given to
// zxcvbn as its own dictionary. Length is counted in runes, and plain is
// never truncated.
func (p Policy) Check(plain string, userInputs ...string) *Problem {
	minLen, minScore := p.MinLength, p.MinScore
	if minLen <= 0 {
		minLen = DefaultMinLength
	}
	if minScore <= 0 {
		minScore = DefaultMinScore
	}
	if minScore > 4 {
		minScore = 4
	}
	if !utf8.ValidString(plain) || strings.ContainsFunc(plain, func(r rune) bool { return unicode.IsControl(r) }) {
		return problemInvalid
	}
	n := utf8.RuneCountInString(plain)
	if n > MaxLength {
		return problemTooLong
	}
	if n < minLen {
		return tooShort(minLen)
	}
	if distinctRunes(plain) < minDistinct {
		return problemWeak
	}
	inputs := userWords(userInputs)
	if inputs.covers(plain) {
		return problemPersonal
	}
	lists := currentLists()
	for _, v := range variants(plain) {
		if inputs.set[v] {
			return problemPersonal
		}
		if _, ok := lists.common[v]; ok {
			return problemCommon
		}
	}
	scored := plain
	if n > scoredRunes {
		scored = string([]rune(plain)[:scoredRunes])
	}
	res := zxcvbn.PasswordStrength(scored, inputs.withFrench(lists.frenchRank))
	if res.Score >= minScore {
		return nil
	}
	for _, m := range res.Sequence {
		if m.Pattern == "dictionary" && m.DictionaryName == "user_inputs" && m.Rank <= len(inputs.list) {
			return problemPersonal
		}
	}
	if coveredByCommon(res.Sequence, len(scored)) {
		return problemCommon
	}
	return problemWeak
}

// minDistinct is the fewest different characters a password may have:
// zxcvbn measures repeats of multi-byte characters poorly ("🦊🦊🦊...").
const minDistinct = 5

func distinctRunes(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// coveredByCommon reports whether one dictionary match of a common password
// spans most of the password (n bytes: zxcvbn's indexes are byte offsets).
func coveredByCommon(seq []*match.Match, n int) bool {
	for _, m := range seq {
		if m.Pattern == "dictionary" && m.DictionaryName == "passwords" && (m.J-m.I+1)*2 >= n {
			return true
		}
	}
	return false
}

// userInputSet is the person's words: as a list for zxcvbn (whole values
// and their parts) and as a set of normalised forms for exact matches.
type userInputSet struct {
	list []string
	set  map[string]bool
}

// covers reports whether plain is mostly the person's own words: once they
// are removed (and digits, symbols and spaces with them), fewer than four
// letters are left.
func (u userInputSet) covers(plain string) bool {
	words := make([]string, 0, len(u.list))
	for _, w := range u.list {
		if utf8.RuneCountInString(w) >= 3 {
			words = append(words, w)
		}
	}
	slices.SortFunc(words, func(a, b string) int { return len(b) - len(a) }) // longest first
	for _, v := range []string{strings.ToLower(plain), foldAccents(strings.ToLower(plain))} {
		rest, removed := v, false
		for _, w := range words {
			if strings.Contains(rest, w) {
				rest, removed = strings.ReplaceAll(rest, w, " "), true
			}
		}
		letters := 0
		for _, r := range rest {
			if unicode.IsLetter(r) {
				letters++
			}
		}
		if removed && letters < 4 {
			return true
		}
	}
	return false
}

// withFrench is the dictionary handed to zxcvbn: the person's words first
// (ranks 1..n), then the French words and names. zxcvbn keeps the last rank
// of a repeated word, so the person's own words are left out of the French
// part.
func (u userInputSet) withFrench(fr []string) []string {
	out := make([]string, 0, len(u.list)+len(fr))
	out = append(out, u.list...)
	for _, w := range fr {
		if !u.set[w] {
			out = append(out, w)
		}
	}
	return out
}

func userWords(in []string) userInputSet {
	u := userInputSet{set: map[string]bool{}}
	add := func(s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if utf8.RuneCountInString(s) < 3 || u.set[s] {
			return
		}
		u.set[s] = true
		u.list = append(u.list, s)
		if f := foldAccents(s); f != s && !u.set[f] {
			u.set[f] = true
			u.list = append(u.list, f)
		}
	}
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		add(s)
		local, _, isMail := strings.Cut(s, "@")
		if isMail {
			add(local)
		}
		words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		for _, w := range words {
			add(w)
		}
		add(strings.Join(words, ""))
	}
	return u
}

// variants are the forms of a password checked against the lists: lower
// case, without separators, without digits and symbols at either end, with
// common leet substitutions undone, and accents folded.
func variants(plain string) []string {
	lower := strings.ToLower(plain)
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	bases := []string{lower, strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, lower)}
	for _, b := range bases {
		for _, v := range []string{b, trimEnds(b), unleet(b, 'i'), unleet(b, 'l'),
			unleet(trimEnds(b), 'i'), unleet(trimEnds(b), 'l'), trimEnds(unleet(b, 'i'))} {
			add(v)
			add(foldAccents(v))
		}
	}
	return out
}

// trimEnds strips digits, symbols and spaces at both ends.
func trimEnds(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
}

// unleet undoes common substitutions; one stands for one.
func unleet(s string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '4', '@':
			return 'a'
		case '8':
			return 'b'
		case '3', '€':
			return 'e'
		case '6', '9':
			return 'g'
		case '1', '!', '|':
			return one
		case '0':
			return 'o'
		case '$', '5':
			return 's'
		case '7', '+':
			return 't'
		case '2':
			return 'z'
		}
		return r
	}, s)
}

// foldAccents removes the diacritics of Latin letters used in French and
// its neighbours, so "bêta" and "beta" are the same word.
func foldAccents(s string) string {
	return accentFolder.Replace(s)
}

var accentFolder = strings.NewReplacer(
	"à", "a", "â", "a", "ä", "a", "á", "a", "ã", "a", "å", "a",
	"ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"î", "i", "ï", "i", "í", "i", "ì", "i",
	"ô", "o", "ö", "o", "ó", "o", "ò", "o", "õ", "o",
	"ù", "u", "û", "u", "ü", "u", "ú", "u", "ÿ", "y", "ñ", "n",
	"œ", "oe", "æ", "ae", "ß", "ss",
)

//go:embed lists/*.txt
var listFS embed.FS

// wordLists are the embedded lists, as Check uses them.
type wordLists struct {
	common     map[string]struct{}
	frenchRank []string // French words and names for zxcvbn, most frequent first
	words      int      // lines read
}

// The dictionaries (the embedded lists and zxcvbn's) are built on the
// first Check and dropped after DictionaryIdle without one: about 9 MiB
// live, needed only while people choose passwords (an activation wave),
// then given back so that an idle server stays small.
var (
	listsMu     sync.Mutex
	lists       *wordLists
	idleRelease *time.Timer
)

// DictionaryIdle is how long the dictionaries stay in memory after the
// last Check.
var DictionaryIdle = 10 * time.Minute

// currentLists returns the lists, building them if needed, and pushes
// their release back.
func currentLists() *wordLists {
	listsMu.Lock()
	defer listsMu.Unlock()
	if lists == nil {
		lists = loadLists()
	}
	if idleRelease == nil {
		idleRelease = time.AfterFunc(DictionaryIdle, releaseDictionaries)
	} else {
		idleRelease.Reset(DictionaryIdle)
	}
	return lists
}

// dictionariesLoaded reports whether the embedded lists are built.
func dictionariesLoaded() bool {
	listsMu.Lock()
	defer listsMu.Unlock()
	return lists != nil
}

// releaseDictionaries drops both sets of dictionaries and hands the memory
// back to the system. A Check in progress keeps what it holds.
func releaseDictionaries() {
	listsMu.Lock()
	lists = nil
	listsMu.Unlock()
	matching.ReleaseDictionaries()
	debug.FreeOSMemory()
}

func loadLists() *wordLists {
	l := &wordLists{common: make(map[string]struct{}, 100000)}
	for _, name := range []string{"passwords.txt", "fr-common-words.txt", "fr-firstnames.txt", "fr-lastnames.txt"} {
		f, err := listFS.Open("lists/" + name)
		if err != nil {
			panic(fmt.Sprintf("password: embedded list %s: %v", name, err)) // embedded at build time
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			w := sc.Text()
			if w == "" {
				continue
			}
			l.words++
			if name == "passwords.txt" {
				l.common[w] = struct{}{}
				continue
			}
			// Only words long enough to be a password on their own are
			// refused whole; every word helps zxcvbn spot combinations.
			if utf8.RuneCountInString(w) >= 6 {
				l.common[w] = struct{}{}
				if f := foldAccents(w); f != w {
					l.common[f] = struct{}{}
				}
			}
			if name != "fr-common-words.txt" || len(l.frenchRank) < frenchWordsForZxcvbn {
				l.frenchRank = append(l.frenchRank, w)
			}
		}
		f.Close()
	}
	return l
}

// frenchWordsForZxcvbn bounds how many French common words are handed to
// zxcvbn on each check (it builds a map of them every call).
const frenchWordsForZxcvbn = 10000
