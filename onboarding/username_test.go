package onboarding

import (
	"strings"
	"testing"
)

func TestBaseUsername(t *testing.T) {
	tests := []struct {
		name, given, family, email, want string
	}{
		{"plain", "Jean", "Dupont", "", "jean.dupont"},
		{"accents", "Élodie", "Hervé", "", "elodie.herve"},
		{"ligature oe", "Œdipe", "Cœur", "", "oedipe.coeur"},
		{"ligature ae", "Læticia", "Æbersold", "", "laeticia.aebersold"},
		{"eszett", "Jürgen", "Weiß", "", "jurgen.weiss"},
		{"o slash", "Søren", "Kierkegaård", "", "soren.kierkegaard"},
		{"l stroke", "Łukasz", "Wałęsa", "", "lukasz.walesa"},
		{"compound first name", "Jean-Pierre", "Le Goff", "", "jean-pierre.le-goff"},
		{"apostrophe", "Anne", "d'Arc", "", "anne.darc"},
		{"typographic apostrophe", "Anne", "D’Arc", "", "anne.darc"},
		{"nbsp inside", "Marie\u00a0Claire", "Durand", "", "marie-claire.durand"},
		{"narrow nbsp around", "\u202fPaul\u202f", " Martin ", "", "paul.martin"},
		{"only family", "", "Martin", "", "martin"},
		{"only given", "Paul", "", "", "paul"},
		{"from email", "", "", "Jean.Dupont+asso@example.org", "jean.dupontasso"},
		{"nothing usable", "", "", "", "user"},
		{"non latin dropped", "李", "Wang", "", "wang"},
		{"digits kept", "Louis", "XIV 14", "", "louis.xiv-14"},
		{"decomposed input", "E\u0301lise", "Cafe\u0301", "", "elise.cafe"},
		{"long", "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := BaseUsername(tc.given, tc.family, tc.email)
			if got != tc.want {
				t.Errorf("BaseUsername(%q, %q, %q) = %q, want %q", tc.given, tc.family, tc.email, got, tc.want)
			}
			if !ValidUsername(got) {
				t.Errorf("%q is not a valid username", got)
			}
		})
	}
}

func TestValidUsername(t *testing.T) {
	for u, want := range map[string]bool{
		"jean.dupont": true, "jean-dupont2": true, "ab": true, "a": false, "Jean": false, "jean_dupont": false,
		".jean": false, "jean.": false, "jéan": false, "jean dupont": false, "": false,
		// WordPress refuses logins over 60 characters (user_login_too_long).
		strings.Repeat("a", 60): true, strings.Repeat("a", 61): false,
	} {
		if got := ValidUsername(u); got != want {
			t.Errorf("ValidUsername(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestNextFreeUsername(t *testing.T) {
	taken := map[string]bool{"jean.dupont": true, "jean.dupont2": true, "jean.dupont4": true}
	if got := NextFreeUsername("jean.dupont", func(s string) bool { return taken[s] }); got != "jean.dupont3" {
		t.Errorf("got %q, want jean.dupont3", got)
	}
	if got := NextFreeUsername("marie", func(s string) bool { return taken[s] }); got != "marie" {
		t.Errorf("got %q, want marie", got)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"  Jean  ":           "Jean",
		"\u00a0Jean\u202f":   "Jean",
		"Jean \u00a0 Pierre": "Jean Pierre",
		"Cafe\u0301":         "Café", // NFC
		"\ufeffEmail":        "Email",
		"\tTab\t":            "Tab",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}
