package matching

import (
	"regexp"
	"sesame/internal/third_party/zxcvbn/adjacency"
	"sesame/internal/third_party/zxcvbn/frequency"
	"sesame/internal/third_party/zxcvbn/match"
	"sync"
)

func Omnimatch(password string, userInputs []string) (matches []*match.Match) {
	dictMatcher := defaultDictionnaries().withDict("user_inputs", buildRankedDict(userInputs))

	matchers := []match.Matcher{
		dictMatcher,
		reverseDictionnaryMatch{dm: dictMatcher},
		l33tMatch{dm: dictMatcher, table: l33tTable},
		spatialMatch{graphs: defaultGraphs},
		repeatMatch{},
		sequenceMatch{},
		regexpMatch{regexes: defaultRegexpMatch},
		dateMatch{},
	}

	for _, m := range matchers {
		matches = append(matches, m.Matches(password)...)
	}
	match.Sort(matches)
	return matches
}

// sesame: the ranked dictionaries were built at package initialisation
// (10 MB allocated, 4.7 MiB of maps kept live); they are now built by the
// first Omnimatch, and ReleaseDictionaries lets them go.
var (
	defaultDictionnariesMu     sync.Mutex
	defaultRankedDictionnaries *dictionaryMatch
)

func defaultDictionnaries() dictionaryMatch {
	defaultDictionnariesMu.Lock()
	defer defaultDictionnariesMu.Unlock()
	if defaultRankedDictionnaries == nil {
		d := loadDefaultDictionnaries()
		defaultRankedDictionnaries = &d
	}
	return *defaultRankedDictionnaries
}

// DictionariesLoaded reports whether the ranked frequency dictionaries are
// built, which the first call of Omnimatch does (sesame addition).
func DictionariesLoaded() bool {
	defaultDictionnariesMu.Lock()
	defer defaultDictionnariesMu.Unlock()
	return defaultRankedDictionnaries != nil
}

// ReleaseDictionaries drops the ranked frequency dictionaries; the next
// Omnimatch builds them again. A running Omnimatch keeps its own reference
// (sesame addition).
func ReleaseDictionaries() {
	defaultDictionnariesMu.Lock()
	defer defaultDictionnariesMu.Unlock()
	defaultRankedDictionnaries = nil
}

var (
	defaultGraphs      = loadDefaultAdjacencyGraphs()
	defaultRegexpMatch = []struct {
		Name   string
		Regexp *regexp.Regexp
	}{
		{
			Name:   "recent_year",
			Regexp: regexp.MustCompile(`19\d\d|200\d|201\d`),
		},
	}
	l33tTable = map[string][]string{
		"a": {"4", "@"},
		"b": {"8"},
		"c": {"(", "{", "[", "<"},
		"e": {"3"},
		"g": {"6", "9"},
		"i": {"1", "!", "|"},
		"l": {"1", "|", "7"},
		"o": {"0"},
		"s": {"$", "5"},
		"t": {"+", "7"},
		"x": {"%"},
		"z": {"2"},
	}
)

func loadDefaultDictionnaries() dictionaryMatch {
	rd := make(map[string]rankedDictionnary)
	for n, list := range frequency.FrequencyLists() {
		rd[n] = buildRankedDict(list)
	}
	return dictionaryMatch{
		rankedDictionaries: rd,
	}
}

func loadDefaultAdjacencyGraphs() []*adjacency.Graph {
	return []*adjacency.Graph{
		adjacency.Graphs["qwerty"],
		adjacency.Graphs["dvorak"],
		adjacency.Graphs["keypad"],
		adjacency.Graphs["mac_keypad"],
	}

}
